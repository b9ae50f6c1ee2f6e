import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import { ConfigError } from '../../src/core/config-issue.js';
import { innerMetadata, type Metadata } from '../../src/core/metadata.js';
import type { IpSet } from '../../src/core/geo.js';
import { geoUse } from '../../src/geo/use.js';
import { Host, loadText } from '../../src/host/host.js';
import { encodeGeoIp, encodeGeoSite, geoliteAsnSpec, metaSpec, writeMmdb } from './support/geo-files.js';

const home = mkdtempSync(join(tmpdir(), 'clash-ts-geo-rules-'));
const datHome = mkdtempSync(join(tmpdir(), 'clash-ts-geo-dat-'));
const empty = mkdtempSync(join(tmpdir(), 'clash-ts-geo-empty-'));
after(() => {
  for (const d of [home, datHome, empty]) rmSync(d, { recursive: true, force: true });
});

before(() => {
  writeMmdb(join(home, 'geoip.metadb'), metaSpec([
    ['1.0.1.0/24', 'cn'], ['2.0.0.0/8', ['cn', 'cloudflare']], ['240e::/18', 'cn'], ['8.8.8.0/24', 'us'], ['10.0.0.0/8', 'private'],
  ]));
  writeMmdb(join(home, 'ASN.mmdb'), geoliteAsnSpec([['1.1.1.0/24', 13335, 'Cloudflare, Inc.'], ['8.8.8.0/24', 15169, 'Google LLC']]));
  const site = encodeGeoSite({
    cn: [{ type: 2, value: 'qq.com' }, { type: 2, value: 'ads.qq.com', attrs: ['ads'] }],
    'geolocation-!cn': [{ type: 2, value: 'google.com' }],
    'category-ads-all': [{ type: 3, value: 'ad.example' }],
  });
  writeFileSync(join(home, 'GeoSite.dat'), site);
  writeFileSync(join(datHome, 'GeoIP.dat'), encodeGeoIp({ cn: ['1.0.1.0/24', '240e::/18'], us: ['8.8.8.0/24'] }));
});

const RULES = `
mode: rule
log-level: silent
rules:
  - GEOSITE,category-ads-all,REJECT
  - GEOSITE,cn@ads,REJECT-DROP
  - GEOSITE,CN,DIRECT
  - AND,((GEOSITE,geolocation-!cn),(NETWORK,tcp)),P
  - GEOIP,LAN,DIRECT
  - GEOIP,cloudflare,G
  - GEOIP,CN,P,no-resolve
  - SRC-GEOIP,us,REJECT
  - IP-ASN,13335,P
  - SRC-IP-ASN,15169,G
  - MATCH,G
proxies:
  - { name: P, type: http, server: 127.0.0.1, port: 1 }
proxy-groups:
  - { name: G, type: select, proxies: [DIRECT] }
`;

function meta(host: string, source = '127.0.0.1'): Metadata {
  const m = innerMetadata({ host, port: 443 });
  return { ...m, source: { host: source, port: 5000 } };
}

async function target(host: Host, m: Metadata): Promise<string> {
  const r = await host.generation.router.route(m);
  return r.rule ? `${r.rule.type}(${r.rule.payload})=${r.rule.target}` : 'none';
}

describe('geo rules bound to real databases', () => {
  let host: Host;
  before(async () => {
    host = await Host.start(RULES, { homeDir: home, log: createLogger('silent') });
  });
  after(() => host.close(0));

  it('every rule type picks its target', async () => {
    assert.equal(await target(host, meta('ad.example')), 'GeoSite(category-ads-all)=REJECT');
    assert.equal(await target(host, meta('x.ads.qq.com')), 'GeoSite(cn@ads)=REJECT-DROP');
    assert.equal(await target(host, meta('www.qq.com')), 'GeoSite(CN)=DIRECT');
    assert.equal(await target(host, meta('mail.google.com')), 'AND(((GeoSite,geolocation-!cn) && (Network,tcp)))=P');
    assert.equal(await target(host, meta('192.168.1.1')), 'GeoIP(lan)=DIRECT');
    assert.equal(await target(host, meta('::ffff:10.0.0.1')), 'GeoIP(lan)=DIRECT');
    assert.equal(await target(host, meta('2.2.2.2')), 'GeoIP(cloudflare)=G');
    assert.equal(await target(host, meta('1.0.1.1')), 'GeoIP(cn)=P');
    assert.equal(await target(host, meta('240e::1')), 'GeoIP(cn)=P');
    assert.equal(await target(host, meta('9.9.9.9', '8.8.8.8')), 'SrcGeoIP(us)=REJECT');
    assert.equal(await target(host, meta('1.1.1.1')), 'IPASN(13335)=P');
    assert.equal(await target(host, meta('9.9.9.9', '::ffff:8.8.8.9')), 'SrcGeoIP(us)=REJECT');
    assert.equal(await target(host, meta('9.9.9.9')), 'Match()=G');
  });

  it('no-resolve: a domain outside every category is not resolved for GEOIP,CN', async () => {
    // localhost resolves to 127.0.0.1: GEOIP,LAN (which resolves) matches it, CN (no-resolve) is never asked
    assert.equal(await target(host, meta('localhost')), 'GeoIP(lan)=DIRECT');
  });

  it('/rules shows mihomo type names and payloads', () => {
    const views = host.control.rules().map((r) => `${r.type},${r.payload},${r.proxy}`);
    assert.deepEqual(views.slice(0, 3), ['GeoSite,category-ads-all,REJECT', 'GeoSite,cn@ads,REJECT-DROP', 'GeoSite,CN,DIRECT']);
    assert.ok(views.includes('GeoIP,cn,P'));
    assert.ok(views.includes('SrcGeoIP,us,REJECT'));
    assert.ok(views.includes('IPASN,13335,P'));
    assert.ok(views.includes('SrcIPASN,15169,G'));
  });

  it('the generation carries the geo data for the DNS side', () => {
    const geo = host.generation.geo!;
    assert.deepEqual(geo.ipCodes('2.2.2.2'), ['cn', 'cloudflare']);
    assert.ok(geo.ipCodes('10.1.1.1').includes('private'));
    assert.equal(geo.asn!('1.1.1.1'), 13335);
    assert.ok(geo.site('cn').has('qq.com'));
  });
});

describe('a non-rule consumer (the DNS side) asks for geo data through RuleDeps.geoUses', () => {
  it('its use is loaded and bound like a rule\'s, and a missing category is reported at its key', async () => {
    const loaded = loadText('log-level: silent\nrules:\n  - MATCH,DIRECT\n');
    let cn: IpSet | undefined;
    (loaded.ruleDeps.geoUses ??= []).push(geoUse('ip', 'dns.fallback-filter.geoip-code', (g) => (cn = g.ipSet!('cn'))));
    const host = await Host.start(loaded, { homeDir: home, log: createLogger('silent') });
    try {
      assert.ok(cn!.has('1.0.1.1'));
      assert.ok(!cn!.has('8.8.8.8'));
    } finally {
      await host.close(0);
    }
    const bad = loadText('rules:\n  - MATCH,DIRECT\n');
    (bad.ruleDeps.geoUses ??= []).push(geoUse('site', 'dns.nameserver-policy geosite:nope', (g) => void g.site('nope')));
    await assert.rejects(Host.check(bad, { homeDir: home }), /list nope not found in GeoSite.dat in "dns.nameserver-policy geosite:nope"/);
  });
});

describe('geodata-mode reads GeoIP.dat', () => {
  it('GEOIP codes come from the .dat file', async () => {
    const yaml = `geodata-mode: true\nlog-level: silent\nrules:\n  - GEOIP,cn,REJECT\n  - GEOIP,!us,DIRECT,no-resolve\n  - MATCH,REJECT-DROP\n`;
    const host = await Host.start(yaml, { homeDir: datHome, log: createLogger('silent') });
    try {
      assert.equal(await target(host, meta('1.0.1.9')), 'GeoIP(cn)=REJECT');
      assert.equal(await target(host, meta('::ffff:1.0.1.9')), 'GeoIP(cn)=REJECT');
      assert.equal(await target(host, meta('240e::5')), 'GeoIP(cn)=REJECT');
      assert.equal(await target(host, meta('9.9.9.9')), 'GeoIP(!us)=DIRECT');
      assert.equal(await target(host, meta('8.8.8.8')), 'Match()=REJECT-DROP');
    } finally {
      await host.close(0);
    }
  });
});

describe('config errors name the rule line', () => {
  async function issues(yaml: string, dir: string): Promise<string[]> {
    try {
      await Host.check(yaml, { homeDir: dir });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.map((i) => `${i.path}${i.line !== undefined ? `:${i.line}` : ''} ${i.message}`);
    }
    return [];
  }

  it('an unknown GEOSITE category, reported with the other build errors', async () => {
    const yaml = 'rules:\n  - GEOSITE,cn,DIRECT\n  - GEOSITE,nope,DIRECT\n  - GEOIP,CN,DIRECT\n  - OR,((GEOSITE,nope2),(GEOIP,xx)),DIRECT\n  - MATCH,DIRECT\n';
    const got = await issues(yaml, home);
    assert.equal(got.length, 2, got.join('\n'));
    assert.equal(got[0], 'rules[1]:3 load GeoSite data error, list nope not found in GeoSite.dat in "GEOSITE,nope,DIRECT"');
    // a sub-rule's line is the logic rule's, found by its text
    assert.match(got[1], /^rules\[3\]:5 load GeoSite data error, list nope2 not found in GeoSite.dat in "GEOSITE,nope2"$/);
  });

  it('load errors (an unknown rule type) come first, alone, as every load error does', async () => {
    const got = await issues('rules:\n  - GEOSITE,nope,DIRECT\n  - FOO,bar,DIRECT\n', home);
    assert.deepEqual(got.map((m) => m.replace(/ .*/, '')), ['rules[1]:3']);
  });

  it('-t with a missing database: a clear error naming it, nothing downloaded', async () => {
    const got = await issues('rules:\n  - GEOIP,CN,DIRECT\n  - GEOIP,US,DIRECT\n  - GEOSITE,cn,DIRECT\n  - IP-ASN,1,DIRECT\n  - GEOIP,lan,DIRECT\n', empty);
    assert.equal(got.length, 3, got.join('\n'));
    assert.match(got[0], /^rules\[0\]:2 can't initial MMDB: can't find geoip.metadb in .* \(needed by "GEOIP,CN,DIRECT" and 1 more\)$/);
    assert.ok(got.some((m) => /can't initial GeoSite: can't find GeoSite.dat/.test(m)), got.join('\n'));
    assert.ok(got.some((m) => /can't initial ASN: can't find ASN.mmdb/.test(m)), got.join('\n'));
  });

  it('GEOIP,lan needs no database', async () => {
    assert.deepEqual(await issues('rules:\n  - GEOIP,lan,DIRECT\n  - SRC-GEOIP,LAN,DIRECT\n  - MATCH,DIRECT\n', empty), []);
  });

  it('bad payloads are refused while the config loads', async () => {
    const got = await issues('rules:\n  - GEOIP,,DIRECT\n  - IP-ASN,AS13335,DIRECT\n  - GEOSITE,!,DIRECT\n', home);
    assert.equal(got.length, 3, got.join('\n'));
    assert.match(got.join('\n'), /invalid IP-ASN payload "AS13335": expected an AS number/);
  });

  it('an oversized database file is refused before it is read', async () => {
    const big = mkdtempSync(join(tmpdir(), 'clash-ts-geo-big-'));
    try {
      // sparse: no disk used
      writeFileSync(join(big, 'GeoSite.dat'), '');
      truncateSync(join(big, 'GeoSite.dat'), 600 * 1024 * 1024);
      const got = await issues('rules:\n  - GEOSITE,cn,DIRECT\n', big);
      assert.equal(got.length, 1);
      assert.match(got[0], /can't initial GeoSite: can't read GeoSite.dat: GeoSite.dat is larger than 536870912 bytes/);
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  });

  it('a corrupt database is named and nothing routes by it', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'clash-ts-geo-bad-'));
    try {
      writeFileSync(join(bad, 'Country.mmdb'), 'not a database at all');
      const got = await issues('rules:\n  - GEOIP,CN,DIRECT\n', bad);
      assert.equal(got.length, 1);
      assert.match(got[0], /can't initial MMDB: Country.mmdb is invalid: not a MaxMind database/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
