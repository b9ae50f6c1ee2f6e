/**
 * nameserver-policy and fallback choose the upstream each case expects: each upstream is a
 * separate local server whose answers differ (dnsmasq, unbound, a Node server). geosite /
 * rule-set keys and the geoip filter use small in-test GeoData / RuleSets; without them the
 * keys are config errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { loadConfig } from '../../src/config/load.js';
import { parseDns } from '../../src/config/dns.js';
import { Issues } from '../../src/config/issues.js';
import type { GeoData, RuleSetEntry, RuleSets } from '../../src/core/geo.js';
import { buildDns, type DnsBuildContext } from '../../src/dns/runtime.js';
import { createRegistry } from '../../src/protocol/index.js';
import { startDnsmasq, startFakeServer, startUnbound, type Dnsmasq, type FakeServer, type Unbound } from './peers.js';

let dnsmasq: Dnsmasq; // 10.0.0.x
let unbound: Unbound; // 10.1.1.x
let node: FakeServer; // 10.7.7.7 for everything

before(async () => {
  dnsmasq = await startDnsmasq({ 'a.test': '10.0.0.1', 'sub.b.test': '10.0.0.2', 'b.test': '10.0.0.3', 'cn.test': '10.0.0.4', 'far.test': '203.0.113.9' });
  unbound = await startUnbound({ 'a.test': '10.1.1.1', 'sub.b.test': '10.1.1.2', 'b.test': '10.1.1.3', 'cn.test': '10.1.1.4', 'far.test': '10.1.1.9' });
  node = await startFakeServer({ answer: '10.7.7.7' });
});

after(async () => {
  await dnsmasq?.stop();
  await unbound?.stop();
  await node?.close();
});

const log = createLogger('silent');
const ctx = (extra: Partial<DnsBuildContext> = {}): DnsBuildContext => ({ log, outbound: () => undefined, ...extra });

function dnsOf(lines: string[]) {
  const text = ['dns:', '  enable: true', ...lines].join('\n');
  return loadConfig(text, { registry: createRegistry() }).config.dns;
}

/** A GeoData where 10.0.0.0/8 is "cn" and geosite "cn" holds cn.test. */
const geo: GeoData = {
  ipCodes: (ip) => (ip.startsWith('10.') ? ['cn'] : ip.startsWith('127.') ? ['private'] : ['us']),
  site: (cat) => {
    if (cat !== 'cn') throw new Error(`geosite ${cat} not found`);
    return { has: (d) => d === 'cn.test' || d.endsWith('.cn.test') };
  },
};
/** A rule-set as the DNS side reads it: loaded, answering `domains()` / `ips()` only. */
const entry = (behavior: 'domain' | 'ipcidr', domain: (d: string) => boolean, ip: boolean): RuleSetEntry => ({
  behavior,
  domains: () => ({ has: domain }),
  ips: () => ({ has: () => ip }),
  loaded: true,
  count: 1,
  needsIp: behavior === 'ipcidr',
  match: () => false,
  notLoaded: () => {},
});
const ruleSets: RuleSets = {
  get: (name) => (name === 'mine' ? entry('domain', (d) => d === 'a.test', false) : name === 'ips' ? entry('ipcidr', () => false, true) : undefined),
};

async function ip(rt: NonNullable<ReturnType<typeof buildDns>['runtime']>, name: string): Promise<string | undefined> {
  return (await rt.resolver.resolve4(name))[0];
}

describe('nameserver-policy', () => {
  test('exact, +. and *. wildcards, comma keys and lists pick their nameserver; the rest goes to nameserver', async () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      '  nameserver-policy:',
      `    "a.test": 127.0.0.1:${unbound.port}`,
      `    "*.b.test": [127.0.0.1:${node.port}]`,
      `    "+.far.test,cn.test": ["tcp://127.0.0.1:${unbound.port}"]`,
    ]);
    const { runtime, issues } = buildDns(c, ctx());
    assert.deepEqual(issues, []);
    try {
      assert.equal(await ip(runtime!, 'a.test'), '10.1.1.1', 'exact key: unbound');
      assert.equal(await ip(runtime!, 'sub.b.test'), '10.7.7.7', '*.b.test: the node server');
      assert.equal(await ip(runtime!, 'b.test'), '10.0.0.3', '*. does not match the name itself: main');
      assert.equal(await ip(runtime!, 'far.test'), '10.1.1.9', '+. matches the name itself');
      assert.equal(await ip(runtime!, 'cn.test'), '10.1.1.4', 'comma key');
    } finally {
      await runtime?.close();
    }
  });

  test('geosite: and rule-set: keys ask the GeoData / RuleSets handed in', async () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      '  nameserver-policy:',
      `    "geosite:cn": 127.0.0.1:${unbound.port}`,
      `    "rule-set:mine": 127.0.0.1:${node.port}`,
    ]);
    const { runtime, issues } = buildDns(c, ctx({ geo, ruleSets }));
    assert.deepEqual(issues, []);
    try {
      assert.equal(await ip(runtime!, 'cn.test'), '10.1.1.4');
      assert.equal(await ip(runtime!, 'a.test'), '10.7.7.7');
      assert.equal(await ip(runtime!, 'b.test'), '10.0.0.3');
    } finally {
      await runtime?.close();
    }
  });

  test('without GeoData / RuleSets (or with a wrong set) those keys are clear config errors', () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      `  fallback: [127.0.0.1:${unbound.port}]`,
      '  nameserver-policy:',
      `    "geosite:cn": 127.0.0.1:${unbound.port}`,
      `    "rule-set:mine": 127.0.0.1:${node.port}`,
    ]);
    const { runtime, issues } = buildDns(c, ctx());
    assert.equal(runtime, undefined);
    const text = issues.map((i) => i.message).join('\n');
    assert.match(text, /geosite:cn needs the GeoSite database/);
    assert.match(text, /rule-set:mine needs the rule-providers/);
    assert.match(text, /needs the GeoIP database/);
    const bad = buildDns(dnsOf([`  nameserver: [127.0.0.1:${dnsmasq.port}]`, '  nameserver-policy:', `    "rule-set:ips": 1.1.1.1`, `    "rule-set:nope": 1.1.1.1`]), ctx({ ruleSets }));
    assert.match(bad.issues.map((i) => i.message).join('\n'), /rule provider type error[^]*not found rule-set: nope/);
  });
});

describe('fallback', () => {
  test('geoip filter: an answer outside geoip-code is replaced by the fallback; one inside is kept', async () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      `  fallback: ["tls://127.0.0.1:${unbound.dotPort}#skip-cert-verify=true"]`,
      '  fallback-filter: { geoip: true, geoip-code: CN }',
    ]);
    const { runtime, issues } = buildDns(c, ctx({ geo }));
    assert.deepEqual(issues, []);
    try {
      assert.equal(await ip(runtime!, 'a.test'), '10.0.0.1', '10.x is "cn": main kept');
      assert.equal(await ip(runtime!, 'far.test'), '10.1.1.9', '203.0.113.9 is "us": fallback answers');
    } finally {
      await runtime?.close();
    }
  });

  test('ipcidr and domain filters; geosite filter (with a warning to move to nameserver-policy)', async () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      `  fallback: [127.0.0.1:${unbound.port}]`,
      '  fallback-filter:',
      '    geoip: false',
      '    ipcidr: [10.0.0.1/32]',
      '    domain: ["+.b.test"]',
      '    geosite: [cn]',
    ]);
    const { runtime, issues } = buildDns(c, ctx({ geo }));
    assert.deepEqual(issues, []);
    try {
      assert.equal(await ip(runtime!, 'far.test'), '203.0.113.9', 'no filter matches: main');
      assert.equal(await ip(runtime!, 'a.test'), '10.1.1.1', 'main answered 10.0.0.1, inside ipcidr: the fallback answers');
      assert.equal(await ip(runtime!, 'b.test'), '10.1.1.3', 'domain filter: fallback only');
      assert.equal(await ip(runtime!, 'cn.test'), '10.1.1.4', 'geosite filter: fallback only');
    } finally {
      await runtime?.close();
    }
    const issues2 = new Issues(() => undefined);
    parseDns({ enable: true, nameserver: ['1.1.1.1'], fallback: ['1.1.1.1'], 'fallback-filter': { geosite: ['cn'] } }, issues2);
    assert.match(issues2.warnings().map((w) => w.message).join(), /replace fallback-filter.geosite with nameserver-policy/);
  });

  test('a failing main nameserver: the fallback answers', async () => {
    const dead = await startFakeServer('servfail');
    const c = dnsOf([`  nameserver: [127.0.0.1:${dead.port}]`, `  fallback: [127.0.0.1:${unbound.port}]`, '  fallback-filter: { geoip: false }']);
    const { runtime } = buildDns(c, ctx());
    try {
      assert.equal(await ip(runtime!, 'a.test'), '10.1.1.1');
    } finally {
      await runtime?.close();
      await dead.close();
    }
  });
});

describe('proxy-server-nameserver and direct-nameserver', () => {
  test('each has its own resolver; the main one stays for the rest', async () => {
    const c = dnsOf([
      `  nameserver: [127.0.0.1:${dnsmasq.port}]`,
      `  proxy-server-nameserver: [127.0.0.1:${unbound.port}]`,
      `  direct-nameserver: [127.0.0.1:${node.port}]`,
    ]);
    const { runtime } = buildDns(c, ctx());
    try {
      assert.equal(await ip(runtime!, 'a.test'), '10.0.0.1');
      assert.equal((await runtime!.proxyServer!.resolve4('a.test'))[0], '10.1.1.1');
      assert.equal((await runtime!.direct!.resolve4('a.test'))[0], '10.7.7.7');
    } finally {
      await runtime?.close();
    }
  });
});
