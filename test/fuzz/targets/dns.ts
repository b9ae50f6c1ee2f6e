import { isIP } from 'node:net';
import fc from 'fast-check';
import { Invariant, type FuzzTarget } from '../harness.js';
import { mutated, randomBytesArb, wire } from '../bytes.js';
import { createLogger } from '../../../src/common/log.js';
import { parseDns } from '../../../src/config/dns.js';
import { Issues } from '../../../src/config/issues.js';
import { ProxyError } from '../../../src/core/errors.js';
import { DnsResolver } from '../../../src/dns/dns-resolver.js';
import { FakeIpPool } from '../../../src/dns/fake-ip.js';
import { HostsLookup } from '../../../src/dns/hosts-lookup.js';
import { DnsRuntime } from '../../../src/dns/runtime.js';
import { answerRaw, truncateForUdp } from '../../../src/dns/server.js';
import type { Upstream } from '../../../src/dns/upstream/upstream.js';
import { decode, encode, WireError, FLAG, MAX_MESSAGE, query, rawId, RCODE, reply, type Answer, type Message, type RecordType } from '../../../src/dns/wire.js';

/**
 * The DNS packet paths: what the listener does with one raw query (decode, hosts, fake-ip, the
 * resolver, encode, UDP truncation), and what the resolver does with one raw upstream answer
 * (decode as the upstreams do, the fallback filter, the cache, the IPs rules and dials get).
 * Everything in process: the upstreams are functions, nothing is sent anywhere.
 */

const log = createLogger('silent');
// ANY, HTTPS and SVCB are types dns-packet's typings leave out but its codec knows
const TYPES = ['A', 'AAAA', 'TXT', 'MX', 'SRV', 'PTR', 'ANY', 'CNAME', 'NS', 'SOA', 'HTTPS', 'SVCB', 'CAA', 'NAPTR', 'DS'] as unknown as RecordType[];
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const nameArb = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
  fc.constantFrom('web.test', 'alias.test', 'real.test', 'x.real.test', 'fake.test', 'localhost', '', 'a'.repeat(63), `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(61)}`),
);

/** An in-process authority: A / AAAA for every name, TXT, NXDOMAIN with an SOA for `nx.*`. */
const authority: Upstream = {
  address: 'fuzz://authority',
  async exchange(q) {
    const question = q.questions[0];
    const name = question?.name ?? '';
    if (name.startsWith('nx.')) {
      return reply(q, RCODE.NXDOMAIN, [], [{ name: 'test', type: 'SOA', class: 'IN', ttl: 60, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 } } as Answer]);
    }
    const answers: Answer[] = [];
    if (question?.type === 'A') answers.push({ name, type: 'A', class: 'IN', ttl: 30, data: '10.1.2.3' });
    if (question?.type === 'AAAA') answers.push({ name, type: 'AAAA', class: 'IN', ttl: 30, data: 'fd00::1' });
    if (question?.type === 'TXT') answers.push({ name, type: 'TXT', class: 'IN', ttl: 30, data: ['x'.repeat(200), 'y'.repeat(200), 'z'.repeat(200)] } as Answer);
    return reply(q, RCODE.NOERROR, answers);
  },
  close() {},
};

let runtime: DnsRuntime | undefined;
/** The listener's DNS: fake-ip (v4 and v6, a filter), hosts with an alias, ipv6 on, the authority upstream. */
function listenerRuntime(): DnsRuntime {
  if (runtime) return runtime;
  const issues = new Issues(() => undefined);
  const config = parseDns(
    { enable: true, ipv6: true, nameserver: ['1.1.1.1'], 'enhanced-mode': 'fake-ip', 'fake-ip-range': '198.18.0.1/24', 'fake-ip-range6': 'fc00::/120', 'fake-ip-filter': ['+.real.test'] },
    issues,
    { hosts: { 'web.test': ['127.0.0.1', '::1'], 'alias.test': 'web.test', '+.wild.test': '10.9.9.9' } },
  );
  if (!config) throw new Error(`fuzz dns config: ${JSON.stringify(issues.errors())}`);
  const hosts = new HostsLookup(config.hosts);
  const resolver = new DnsResolver({ main: [authority], hosts, ipv6: true, log, cacheSize: 256 });
  const bootstrap = new DnsResolver({ main: [authority], ipv6: true, log, cacheSize: 16 });
  const fakeIp = { v4: new FakeIpPool(config.fakeIpRange), v6: new FakeIpPool(config.fakeIpRange6!), skip: (n: string) => n === 'real.test' || n.endsWith('.real.test') };
  runtime = new DnsRuntime({ config, resolver, bootstrap, hosts, fakeIp, log });
  return runtime;
}

/** Real queries as clients send them: any type, flags, opcodes, several questions, EDNS. */
const queryArb: fc.Arbitrary<Buffer> = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    name: nameArb,
    type: fc.constantFrom(...TYPES),
    rd: fc.boolean(),
    cd: fc.boolean(),
    opcode: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 15 }) }),
    extra: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    edns: fc.option(fc.integer({ min: 0, max: 0xffff })),
    ecs: fc.option(fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 }))),
  })
  .map((r) => {
    const q: Message = query(r.name === '' ? '.' : r.name, r.type, r.id, r.ecs ? { ip: r.ecs[0], prefix: r.ecs[1] } : undefined);
    const flags = (r.rd ? FLAG.RD : 0) | (r.cd ? FLAG.CD : 0) | ((r.opcode & 0xf) << 11);
    const questions = [...q.questions, ...Array.from({ length: r.extra }, (_, i) => ({ name: `q${i}.test`, type: 'A' as RecordType, class: 'IN' as const }))];
    const additionals = r.edns !== null && !r.ecs ? [{ name: '.', type: 'OPT', udpPayloadSize: r.edns, flags: 0, options: [] } as unknown as Answer] : q.additionals;
    return encode({ ...q, flags, questions, additionals });
  });

/** A query over the wire: mutated real ones, real ones, random bytes, and responses. */
const listenerInput = fc.oneof(
  { weight: 9, arbitrary: wire(queryArb) },
  { weight: 1, arbitrary: queryArb.map((b) => Buffer.concat([b.subarray(0, 2), Buffer.from([b[2] | 0x80]), b.subarray(3)])) },
);

function udpLimit(raw: Buffer): number {
  try {
    const opt = decode(raw).additionals.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    return opt?.udpPayloadSize ? Math.min(4096, Math.max(512, opt.udpPayloadSize)) : 512;
  } catch {
    return 512;
  }
}

const listenerTarget: FuzzTarget<Buffer> = {
  name: 'dns-listener-query',
  arbitrary: listenerInput,
  async: true,
  async run(raw) {
    const { out } = await answerRaw(raw, listenerRuntime(), log);
    let isResponse = false;
    try {
      isResponse = (decode(raw).flags & FLAG.QR) !== 0;
    } catch {
      isResponse = raw.length >= 12 && (raw.readUInt16BE(2) & FLAG.QR) !== 0;
    }
    if (isResponse && out) throw new Invariant('a response was answered');
    if (raw.length < 12 && out) throw new Invariant('an answer to fewer bytes than a header');
    if (!out) {
      if (raw.length >= 12 && !isResponse) throw new Invariant('a query with a readable header got nothing back');
      return;
    }
    if (out.length > MAX_MESSAGE) throw new Invariant(`an answer of ${out.length} bytes`);
    if (rawId(out) !== rawId(raw)) throw new Invariant('the answer carries another id');
    let m: Message;
    try {
      m = decode(out);
    } catch (err) {
      throw new Invariant(`our own answer does not decode: ${(err as Error).message}`);
    }
    if (!(m.flags & FLAG.QR)) throw new Invariant('the answer is not marked a response');
    const udp = truncateForUdp(out, raw);
    const limit = udpLimit(raw);
    if (udp.length > limit) {
      const t = decode(udp);
      if (!(t.flags & FLAG.TC) || t.answers.length > 0) throw new Invariant(`a UDP answer of ${udp.length} bytes over the client's ${limit} without TC`);
    }
  },
};

/** Real answers an upstream could send for the query: records of many types, rcodes, SOA. */
const answerArb: fc.Arbitrary<Buffer> = fc
  .record({
    rcode: fc.constantFrom(0, 0, 0, 2, 3, 5),
    a: fc.array(fc.ipV4(), { maxLength: 4 }),
    aaaa: fc.array(fc.ipV6().filter((h) => !h.includes('.')), { maxLength: 3 }),
    cname: fc.option(nameArb),
    ttl: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff), fc.integer({ min: 0, max: 86400 })),
    soa: fc.boolean(),
    tc: fc.boolean(),
  })
  .map((r) => {
    const name = 'up.test';
    const answers: Answer[] = [];
    if (r.cname) answers.push({ name, type: 'CNAME', class: 'IN', ttl: r.ttl, data: r.cname || 'x' });
    for (const ip of r.a) answers.push({ name, type: 'A', class: 'IN', ttl: r.ttl, data: ip });
    for (const ip of r.aaaa) answers.push({ name, type: 'AAAA', class: 'IN', ttl: r.ttl, data: ip });
    const authorities: Answer[] = r.soa ? [{ name: 'test', type: 'SOA', class: 'IN', ttl: r.ttl, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: r.ttl } } as Answer] : [];
    return encode({ id: 0, flags: FLAG.QR | FLAG.RA | (r.tc ? FLAG.TC : 0) | r.rcode, questions: [{ name, type: 'A', class: 'IN' }], answers, authorities, additionals: [] });
  });

interface UpstreamCase {
  readonly bytes: Buffer;
  readonly type: 'A' | 'AAAA';
}

const upstreamInput: fc.Arbitrary<UpstreamCase> = fc.record({
  bytes: fc.oneof({ weight: 6, arbitrary: mutated(answerArb) }, { weight: 3, arbitrary: answerArb }, { weight: 1, arbitrary: randomBytesArb }),
  type: fc.constantFrom('A' as const, 'AAAA' as const),
});

/** An upstream that answers with the fuzzed bytes, decoded as the real ones decode (garbage: a failed exchange). */
function replaying(bytes: Buffer): Upstream {
  return {
    address: 'fuzz://replay',
    async exchange(q) {
      let m: Message;
      try {
        m = decode(bytes);
      } catch (err) {
        throw new ProxyError('RESOLVE_FAILED', `dns fuzz://replay: ${(err as Error).message}`);
      }
      return { ...m, id: q.id };
    },
    close() {},
  };
}

const upstreamTarget: FuzzTarget<UpstreamCase> = {
  name: 'dns-upstream-answer',
  arbitrary: upstreamInput,
  async: true,
  async run(c) {
    // the fallback replaces answers in 10.0.0.0/8, as a fallback-filter ipcidr would
    const r = new DnsResolver({ main: [replaying(c.bytes)], fallback: [authority], fallbackIpFilters: [(ip) => ip.startsWith('10.')], ipv6: true, log, cacheSize: 8 });
    try {
      const q = query('up.test.', c.type, 0x1234);
      let first: Message | undefined;
      try {
        first = await r.exchange(q);
      } catch (err) {
        if (!(err instanceof ProxyError)) throw err;
      }
      if (first) {
        if (first.id !== 0x1234) throw new Invariant('the exchange answered with another id');
        // what the listener sends on: must re-encode (a WireError would be SERVFAIL there), and
        // what it sends must decode at the client
        let out: Buffer | undefined;
        try {
          out = encode(first);
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
        }
        if (out) {
          try {
            decode(out);
          } catch (err) {
            throw new Invariant(`an upstream answer re-encoded does not decode: ${(err as Error).message}`);
          }
        }
        // again: from the cache now, aged
        const again = await r.exchange(q);
        if (again.id !== 0x1234) throw new Invariant('the cached answer carries another id');
      }
      const v4 = await r.resolve4('up.test').catch((err: unknown) => {
        if (err instanceof ProxyError) return [] as string[];
        throw err;
      });
      if (v4.some((ip) => isIP(ip) !== 4)) throw new Invariant(`resolve4 gave ${JSON.stringify(v4)}`);
      const v6 = await r.resolve6('up.test').catch((err: unknown) => {
        if (err instanceof ProxyError) return [] as string[];
        throw err;
      });
      if (v6.some((ip) => isIP(ip) !== 6)) throw new Invariant(`resolve6 gave ${JSON.stringify(v6)}`);
      const one = await r.resolveIp('up.test').catch((err: unknown) => {
        if (err instanceof ProxyError) return undefined;
        throw err;
      });
      if (one !== undefined && isIP(one) === 0) throw new Invariant(`resolveIp gave ${one}`);
    } finally {
      r.close();
    }
  },
};

export const dnsTargets: FuzzTarget<any>[] = [listenerTarget, upstreamTarget];
