import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata, Network } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { RuleEngine, type MatchContext } from './engine.js';
import { parseRule } from './parse.js';
import { MIN_BLOCK } from './steps.js';

function meta(host: string, opts: { port?: number; network?: Network; src?: string } = {}): Metadata {
  return {
    id: 't',
    network: opts.network ?? 'tcp',
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: opts.src ?? '192.168.1.2', port: 50000 },
    destination: { host, port: opts.port ?? 443 },
  };
}

/** `TYPE,PAYLOAD,TARGET,params…` split as the config loader does. */
function rules(...lines: string[]): Rule[] {
  return lines.map((raw) => {
    const f = raw.split(',');
    const type = f[0].toUpperCase();
    if (type === 'MATCH') return parseRule({ raw, type, payload: '', target: f[1], params: [] });
    if (['AND', 'OR', 'NOT'].includes(type)) {
      return parseRule({ raw, type, payload: f.slice(1, -1).join(','), target: f[f.length - 1], params: [] });
    }
    return parseRule({ raw, type, payload: f[1], target: f[2], params: f.slice(3) });
  });
}

/** A resolver that counts its calls and answers from a table (absent = does not resolve). */
function counting(table: Record<string, string> = {}): MatchContext & { calls: number } {
  const ctx = {
    calls: 0,
    resolveIp(host: string): Promise<string | undefined> {
      ctx.calls++;
      return Promise.resolve(table[host]);
    },
  } as MatchContext & { calls: number };
  return ctx;
}

test('first match wins; no match is undefined', async () => {
  const e = new RuleEngine(rules('DOMAIN-SUFFIX,a.com,A', 'DOMAIN,x.a.com,B', 'DST-PORT,443,C'));
  assert.equal((await e.match(meta('x.a.com'), counting()))?.index, 0);
  assert.equal((await e.match(meta('b.com'), counting()))?.rule.target, 'C');
  assert.equal(await e.match(meta('b.com', { port: 80 }), counting()), undefined);
  assert.equal(e.rules.length, 3);
});

test('PASS resume: from skips earlier rules, including inside blocks', async () => {
  const lines = ['DOMAIN-SUFFIX,a.com,PASS'];
  for (let i = 0; i < 20; i++) lines.push(`DOMAIN-SUFFIX,d${i}.com,X${i}`);
  lines.push('DOMAIN,x.a.com,B', 'DOMAIN-SUFFIX,a.com,C', 'MATCH,M');
  const e = new RuleEngine(rules(...lines));
  assert.ok(e.stepCount < lines.length, 'domain run compiled into a block');
  const ctx = counting();
  const first = await e.match(meta('x.a.com'), ctx);
  assert.deepEqual([first?.index, first?.rule.target], [0, 'PASS']);
  const second = await e.match(meta('x.a.com'), ctx, first!.index + 1);
  assert.deepEqual([second?.index, second?.rule.target], [21, 'B']);
  const third = await e.match(meta('x.a.com'), ctx, second!.index + 1);
  assert.equal(third?.rule.target, 'C');
  assert.equal((await e.match(meta('x.a.com'), ctx, third!.index + 1))?.rule.target, 'M');
  assert.equal(await e.match(meta('x.a.com'), ctx, lines.length), undefined);
  assert.equal(ctx.calls, 0);
});

test('lazy resolution: never for domain-only lists or no-resolve rules', async () => {
  const e = new RuleEngine(rules('DOMAIN,a.com,A', 'IP-CIDR,10.0.0.0/8,B,no-resolve', 'SRC-IP-CIDR,10.0.0.0/8,S', 'MATCH,M'));
  const ctx = counting({ 'b.com': '10.0.0.1' });
  assert.equal((await e.match(meta('b.com'), ctx))?.rule.target, 'M');
  assert.equal((await e.match(meta('a.com'), ctx))?.rule.target, 'A');
  assert.equal(ctx.calls, 0);
  assert.equal(ctx.resolved, undefined);
});

test('lazy resolution: once, when the first IP rule is reached, never for IP literals', async () => {
  const e = new RuleEngine(rules('DOMAIN,a.com,A', 'IP-CIDR,10.0.0.0/8,B', 'IP-CIDR,20.0.0.0/8,C', 'MATCH,M'));
  const hit = counting({ 'a.com': '10.0.0.1', 'b.com': '20.0.0.1' });
  assert.equal((await e.match(meta('a.com'), hit))?.rule.target, 'A');
  assert.equal(hit.calls, 0); // matched before any IP rule
  const ctx = counting({ 'b.com': '20.0.0.1' });
  assert.equal((await e.match(meta('b.com'), ctx))?.rule.target, 'C');
  assert.equal(ctx.calls, 1);
  assert.equal(ctx.ip, '20.0.0.1');
  assert.equal(ctx.resolved, true);
  // resuming with the same context (after a PASS) does not resolve again
  assert.equal((await e.match(meta('b.com'), ctx, 3))?.rule.target, 'M');
  assert.equal(ctx.calls, 1);
  const lit = counting();
  assert.equal((await e.match(meta('10.9.9.9'), lit))?.rule.target, 'B');
  assert.equal((await e.match(meta('::ffff:20.1.1.1'), lit))?.rule.target, 'C');
  assert.equal(lit.calls, 0);
});

test('resolution failure: IP rules miss, matching goes on, no retry', async () => {
  const e = new RuleEngine(rules('IP-CIDR,0.0.0.0/0,A', 'IP-CIDR6,::/0,B', 'MATCH,M'));
  const none = counting();
  assert.equal((await e.match(meta('nx.com'), none))?.rule.target, 'M');
  assert.equal(none.calls, 1);
  const throwing: MatchContext & { calls: number } = {
    calls: 0,
    resolveIp() {
      this.calls++;
      return Promise.reject(new Error('SERVFAIL'));
    },
  };
  assert.equal((await e.match(meta('nx.com'), throwing))?.rule.target, 'M');
  assert.equal(throwing.calls, 1);
  assert.equal(throwing.resolved, true);
  const junk = counting({ 'j.com': 'not an ip' });
  assert.equal((await e.match(meta('j.com'), junk))?.rule.target, 'M');
  assert.equal(junk.ip, undefined);
});

test('resolved IPv4-mapped addresses are unmapped; a caller-known IP is used without resolving', async () => {
  const e = new RuleEngine(rules('IP-CIDR,10.0.0.0/8,A', 'MATCH,M'));
  const ctx = counting({ 'a.com': '::ffff:10.1.1.1' });
  assert.equal((await e.match(meta('a.com'), ctx))?.rule.target, 'A');
  assert.equal(ctx.ip, '10.1.1.1');
  const known = counting();
  known.ip = '10.2.2.2';
  assert.equal((await e.match(meta('fake.com'), known))?.rule.target, 'A');
  assert.equal(known.calls, 0);
});

test('no-resolve rules see the IP once an earlier rule resolved it (as mihomo)', async () => {
  const e = new RuleEngine(rules('IP-CIDR,1.0.0.0/8,A', 'IP-CIDR,10.0.0.0/8,B,no-resolve', 'MATCH,M'));
  assert.equal((await e.match(meta('a.com'), counting({ 'a.com': '10.0.0.1' })))?.rule.target, 'B');
  const late = new RuleEngine(rules('IP-CIDR,10.0.0.0/8,B,no-resolve', 'IP-CIDR,1.0.0.0/8,A', 'MATCH,M'));
  assert.equal((await late.match(meta('a.com'), counting({ 'a.com': '10.0.0.1' })))?.rule.target, 'M');
});

test('logic rules with an IP sub-rule trigger the resolution', async () => {
  const e = new RuleEngine(rules('AND,((NETWORK,udp),(IP-CIDR,10.0.0.0/8)),A', 'MATCH,M'));
  const ctx = counting({ 'a.com': '10.0.0.1' });
  assert.equal((await e.match(meta('a.com', { network: 'udp' }), ctx))?.rule.target, 'A');
  assert.equal(ctx.calls, 1);
});

test('settles without resolving when no IP rule is reached', async () => {
  const e = new RuleEngine(rules('DOMAIN,a.com,A'));
  let settled = false;
  void e.match(meta('a.com'), counting()).then(() => (settled = true));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(settled, true);
});

test('CIDR runs: resolving and no-resolve rules are never mixed in one block', async () => {
  const lines: string[] = [];
  for (let i = 0; i < MIN_BLOCK + 2; i++) lines.push(`IP-CIDR,10.${i}.0.0/16,N${i},no-resolve`);
  for (let i = 0; i < MIN_BLOCK + 2; i++) lines.push(`IP-CIDR,10.${i}.0.0/16,R${i}`);
  lines.push('IP-CIDR,10.0.0.0/8,S,src', 'MATCH,M');
  const e = new RuleEngine(rules(...lines));
  assert.ok(e.stepCount <= 5);
  const ctx = counting({ 'a.com': '10.3.0.1' });
  assert.equal((await e.match(meta('a.com'), ctx))?.rule.target, 'R3');
  assert.equal((await e.match(meta('10.3.9.9'), counting()))?.rule.target, 'N3');
  assert.equal((await e.match(meta('10.3.9.9'), counting(), 4))?.rule.target, 'R3');
  assert.equal((await e.match(meta('b.com', { src: '10.200.0.1' }), counting()))?.rule.target, 'S');
});

test('100,000 DOMAIN-SUFFIX rules: one block, first match preserved, lookups by label', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(`DOMAIN-SUFFIX,site${i}.example${i % 100}.com,T${i}`);
  lines.push('DOMAIN-SUFFIX,example7.com,BROAD'); // later and broader: loses to earlier specific ones
  lines.push('DOMAIN-SUFFIX,site5.example5.com,DUP'); // duplicate key: reachable only via from
  lines.push('DOMAIN,exact.example7.com,EXACT');
  lines.splice(50_000, 0, 'DOMAIN-SUFFIX,example42.com,EARLY'); // broader, in the middle
  lines.push('MATCH,M');
  const e = new RuleEngine(rules(...lines));
  assert.equal(e.stepCount, 2);
  const ctx = counting();
  assert.equal((await e.match(meta('site7.example7.com'), ctx))?.rule.target, 'T7');
  assert.equal((await e.match(meta('a.b.SITE99999.example99.com'), ctx))?.rule.target, 'T99999');
  assert.equal((await e.match(meta('other.example7.com'), ctx))?.rule.target, 'BROAD');
  assert.equal((await e.match(meta('exact.example7.com'), ctx))?.rule.target, 'BROAD');
  assert.equal((await e.match(meta('site42.example42.com'), ctx))?.rule.target, 'T42');
  assert.equal((await e.match(meta('site60042.example42.com'), ctx))?.rule.target, 'EARLY');
  assert.equal((await e.match(meta('x.example42.com'), ctx))?.rule.target, 'EARLY');
  assert.equal((await e.match(meta('nothing.org'), ctx))?.rule.target, 'M');
  const first = await e.match(meta('site5.example5.com'), ctx);
  assert.equal(first?.rule.target, 'T5');
  assert.equal((await e.match(meta('site5.example5.com'), ctx, first!.index + 1))?.rule.target, 'DUP');
  assert.equal(ctx.calls, 0);
  // Loose sanity bound only: a linear scan would be ~100,000 comparisons per lookup.
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 20_000; i++) await e.match(meta(`h.site${i * 5}.example${(i * 5) % 100}.com`), ctx);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.ok(ms < 10_000, `20,000 lookups took ${ms} ms`);
});

test('compiled matching agrees with a plain first-match scan on random lists', async () => {
  let seed = 99;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) >>> 0) % n;
  const pool = (kind: number): string => {
    switch (kind) {
      case 0: return `DOMAIN,h${rnd(6)}.d${rnd(4)}.com,T`;
      case 1: case 2: case 3: return `DOMAIN-SUFFIX,${rnd(2) ? `h${rnd(6)}.` : ''}d${rnd(4)}.com,T`;
      case 4: return `IP-CIDR,10.${rnd(4)}.0.0/${8 + rnd(12)},T${rnd(2) ? ',no-resolve' : ''}`;
      case 5: return `IP-CIDR,10.${rnd(4)}.0.0/16,T`;
      case 6: return `DOMAIN-KEYWORD,h${rnd(6)},T`;
      case 7: return `DST-PORT,${rnd(3) + 80},T`;
      default: return `SRC-IP-CIDR,192.168.${rnd(3)}.0/24,T`;
    }
  };
  let blocked = 0;
  for (let round = 0; round < 40; round++) {
    // runs of one kind, long enough now and then to become blocks
    const lines: string[] = [];
    while (lines.length < 80) {
      const kind = rnd(9);
      for (let n = 1 + rnd(rnd(3) === 0 ? 20 : 4); n > 0; n--) lines.push(pool(kind));
    }
    const list = rules(...lines);
    const e = new RuleEngine(list);
    blocked += list.length - e.stepCount;
    for (let q = 0; q < 50; q++) {
      const host = rnd(4) === 0 ? `10.${rnd(4)}.${rnd(3)}.1` : `h${rnd(6)}.d${rnd(5)}.com`;
      const m = meta(host, { port: 80 + rnd(4), src: `192.168.${rnd(4)}.7` });
      const table = { [host]: `10.${rnd(4)}.1.1` };
      const from = rnd(3) === 0 ? rnd(list.length) : 0;
      const ctx = counting(table);
      const got = await e.match(m, ctx, from);
      // the reference: one rule at a time, resolving when an IP rule is reached
      let ip: string | undefined = /^\d/.test(host) ? host : undefined;
      let resolved = ip !== undefined;
      let want = -1;
      for (let i = from; i < list.length; i++) {
        if (list[i].needsIp && !resolved) {
          ip = table[host];
          resolved = true;
        }
        if (list[i].match(m, ip)) {
          want = i;
          break;
        }
      }
      assert.equal(got?.index ?? -1, want, `round ${round} query ${q}`);
      assert.ok(ctx.calls <= 1);
    }
  }
  assert.ok(blocked > 100, `only ${blocked} rules went into blocks`);
});
