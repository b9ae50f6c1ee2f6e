import { errorMessage } from '../core/errors.js';
import type { DnsRuntime } from './runtime.js';
import { answerIps, minAnswerTtl, opcodeOf, query, questionName, questionText, RCODE, reply, type Answer, type Message } from './wire.js';

/** TTL of answers made from `hosts`, as mihomo's. */
const HOSTS_TTL = 10;

/**
 * Answers one decoded query as mihomo's DNS server does (its handler chain): hosts, then
 * fake-ip (A, and AAAA with fake-ip-range6; other AAAA empty), then the resolver; redir-host
 * remembers the addresses it answered. Never rejects: failures are SERVFAIL, odd queries
 * FORMERR or NOTIMP.
 */
export async function answerQuery(rt: DnsRuntime, q: Message): Promise<Message> {
  if (opcodeOf(q) !== 0) return reply(q, RCODE.NOTIMP);
  if (q.questions.length !== 1) return reply(q, RCODE.FORMERR);
  const question = q.questions[0];
  const name = questionName(question);
  const type = question.type;
  const isIp = type === 'A' || type === 'AAAA';
  const c = rt.config;
  try {
    if (isIp && name !== '') {
      const h = rt.hosts.lookup(name);
      if (h && !h.resolveAs) {
        const ips = type === 'A' ? h.v4 : h.v6;
        return reply(q, RCODE.NOERROR, [...cnameChain(question.name, h.cnames), ...records(h.cnames.at(-1) ?? question.name, type, ips, HOSTS_TTL)]);
      }
      if (h?.resolveAs) {
        const inner = await rt.resolver.exchange(query(`${h.resolveAs}.`, type));
        return reply(q, RCODE.NOERROR, [...cnameChain(question.name, h.cnames), ...inner.answers]);
      }
      if (type === 'AAAA' && !c.ipv6) return reply(q, RCODE.NOERROR);
      const f = rt.fakeIp;
      if (f && !f.skip(name)) {
        if (type === 'AAAA' && !f.v6) return reply(q, RCODE.NOERROR);
        const pool = type === 'A' ? f.v4 : f.v6!;
        return reply(q, RCODE.NOERROR, records(question.name, type, [pool.lookup(name)], c.fakeIpTtl));
      }
    }
    const m = await rt.resolver.exchange(q);
    if (rt.mapping && isIp) {
      const ttl = minAnswerTtl(m) ?? 0;
      for (const ip of answerIps(m)) rt.mapping.remember(ip, name, ttl);
    }
    return { ...m, id: q.id, flags: (m.flags & ~0x0100) | (q.flags & 0x0100) };
  } catch (err) {
    rt.log.debug(`[DNS Server] Exchange ${questionText(question)} failed: ${errorMessage(err)}`);
    return reply(q, RCODE.SERVFAIL);
  }
}

function records(name: string, type: 'A' | 'AAAA', ips: readonly string[], ttl: number): Answer[] {
  return ips.map((data) => ({ name, type, class: 'IN', ttl, data }) as Answer);
}

function cnameChain(from: string, cnames: readonly string[]): Answer[] {
  const out: Answer[] = [];
  let at = from;
  for (const c of cnames) {
    out.push({ name: at, type: 'CNAME', class: 'IN', ttl: HOSTS_TTL, data: c } as Answer);
    at = c;
  }
  return out;
}
