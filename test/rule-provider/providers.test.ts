/**
 * rule-providers against a local HTTP server: every behaviour (domain, ipcidr, classical) in
 * every format (yaml, text, mrs — written by our encoder, one recompressed by Debian's zstd)
 * and inline; malformed lines skipped and named in the log; an oversized payload refused; a
 * 404 and a hang keep the copy on disk; ETag gives 304; a refresh swaps the set; a provider
 * not loaded yet matches nothing and says so once; the providers' views (GET /providers/rules).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import type { Metadata } from '../../src/core/metadata.js';
import { Host } from '../../src/host/host.js';
import { HashedDomainSet } from '../../src/rule-provider/domain-set.js';
import { RangeIpSet } from '../../src/rule-provider/ip-set.js';
import { writeMrs, zstdDecompress } from '../../src/rule-provider/mrs.js';
import { eventually } from '../cluster/load.js';
import { freePort } from '../support/ports.js';

const DOMAINS = ['exact.d.test', '+.suffix.d.test', '.under.d.test', '*.one.d.test'];
const CIDRS = ['10.1.0.0/16', '192.0.2.0/24', '2001:db8:1::/48'];

function domainMrs(): Buffer {
  const s = new HashedDomainSet();
  for (const d of DOMAINS) s.insert(d);
  return writeMrs({ behavior: 'domain', count: s.count, domains: s });
}
function ipMrs(): Buffer {
  const s = new RangeIpSet();
  for (const c of CIDRS) s.insert(c);
  return writeMrs({ behavior: 'ipcidr', count: s.count, ips: s.finish() });
}
/** The same mrs content, compressed for real by Debian's zstd (not our stored blocks). */
function realZstd(mrs: Buffer): Buffer {
  const r = spawnSync('zstd', ['-q', '-19', '-c'], { input: zstdDecompress(mrs) });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout;
}

const yamlList = (items: string[]) => `# a comment\npayload:\n${items.map((i) => `  - '${i}'`).join('\n')}\n`;

interface Served {
  port: number;
  bodies: Map<string, Buffer | string>;
  seen: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function server(): Promise<Served> {
  const bodies = new Map<string, Buffer | string>();
  const seen: Served['seen'] = [];
  const hung: http.ServerResponse[] = [];
  const s = http.createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ path, headers: req.headers });
    if (path === '/404') return void res.writeHead(404).end('no');
    if (path === '/hang') return void hung.push(res);
    if (path === '/etag') {
      if (req.headers['if-none-match'] === '"e1"') return void res.writeHead(304).end();
      return void res.writeHead(200, { etag: '"e1"' }).end(yamlList(['etag.test']));
    }
    if (path === '/lm.txt') {
      // Last-Modified only: 304 when asked with exactly it
      const lm = 'Wed, 02 Dec 2026 10:00:00 GMT';
      if (req.headers['if-modified-since'] === lm) return void res.writeHead(304).end();
      return void res.writeHead(200, { 'last-modified': lm, etag: '"lm1"' }).end('lm.test\n');
    }
    const body = bodies.get(path);
    if (body === undefined) return void res.writeHead(500).end();
    res.end(body);
  });
  s.listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  return {
    port: (s.address() as AddressInfo).port,
    bodies,
    seen,
    close: async () => {
      for (const r of hung) r.destroy();
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    },
  };
}

let srv: Served;
const hosts: Host[] = [];
const homes: string[] = [];

function home(): string {
  const h = mkdtempSync(join(tmpdir(), 'clash-ts-rule-providers-'));
  homes.push(h);
  return h;
}

async function start(yaml: string, homeDir: string, entries: LogEntry[] = [], opts: { providerFetchTimeoutMs?: number } = {}): Promise<Host> {
  const log = createLogger('info', () => undefined);
  log.subscribe((e) => entries.push(e));
  const h = await Host.start(yaml, { log, homeDir, ...opts });
  hosts.push(h);
  return h;
}

function meta(host: string, network: 'tcp' | 'udp' = 'tcp'): Metadata {
  return { id: 'x', network, inbound: { type: 'SOCKS5', name: 'test', port: 1 }, source: { host: '127.0.0.1', port: 40000 }, destination: { host, port: 80 } };
}

/** Which RULE-SET (by provider name) routes `dest`; '' for none. */
async function matched(h: Host, dest: string): Promise<string> {
  const r = await h.generation.router.route(meta(dest));
  return r.rule && r.rule.type === 'RuleSet' ? r.rule.payload : '';
}

const url = (p: string) => `http://127.0.0.1:${srv.port}${p}`;

before(async () => {
  srv = await server();
  srv.bodies.set('/d.yaml', yamlList(DOMAINS.map((d) => d.replace('.d.test', '.dy.test'))));
  srv.bodies.set('/d.txt', `# text\n${DOMAINS.map((d) => d.replace('.d.test', '.dt.test')).join('\n')}\n`);
  srv.bodies.set('/d.mrs', domainMrs());
  srv.bodies.set('/d-zstd.mrs', realZstd(domainMrs()));
  srv.bodies.set('/i.yaml', yamlList(['10.2.0.0/16', '2001:db8:2::/48']));
  srv.bodies.set('/i.txt', '10.3.0.0/16\n2001:db8:3::/48\n');
  srv.bodies.set('/i.mrs', ipMrs());
  srv.bodies.set('/i-zstd.mrs', realZstd(ipMrs()));
  srv.bodies.set('/c.yaml', yamlList(['DOMAIN-SUFFIX,cy.test', 'IP-CIDR,10.4.0.0/16,no-resolve', 'AND,((DOMAIN-KEYWORD,both),(NETWORK,UDP))']));
  srv.bodies.set('/c.txt', 'DOMAIN,ct.test\nDST-PORT,8080\n');
  srv.bodies.set(
    '/bad.yaml',
    "payload:\n  - 'good.bad.test'\n  - 'no..good.test'\n  not a list entry\n  - 'trailing.dot.'\n  - 'also.good.bad.test'\n",
  );
  srv.bodies.set('/bad-c.txt', 'DOMAIN,okc.test\nFOO,x\nMATCH\nRULE-SET,other\nIP-CIDR,300.1.1.1/8\n');
  srv.bodies.set('/big', yamlList(Array.from({ length: 2000 }, (_, i) => `n${i}.big.test`)));
  srv.bodies.set('/swap', yamlList(['before.swap.test']));
  srv.bodies.set('/nopayload', 'hello: world\n');
});
after(async () => {
  await Promise.all(hosts.map((h) => h.close(0)));
  await srv?.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe('rule-providers', () => {
  test('every behaviour x format (and inline) routes known answers', async () => {
    const providers: [string, string][] = [
      ['d-yaml', `{ type: http, behavior: domain, url: "${url('/d.yaml')}" }`],
      ['d-text', `{ type: http, behavior: domain, format: text, url: "${url('/d.txt')}" }`],
      ['d-mrs', `{ type: http, behavior: domain, format: mrs, url: "${url('/d.mrs')}" }`],
      ['i-yaml', `{ type: http, behavior: ipcidr, url: "${url('/i.yaml')}" }`],
      ['i-text', `{ type: http, behavior: ipcidr, format: text, url: "${url('/i.txt')}" }`],
      ['i-mrs', `{ type: http, behavior: ipcidr, format: mrs, url: "${url('/i.mrs')}" }`],
      ['c-yaml', `{ type: http, behavior: classical, url: "${url('/c.yaml')}" }`],
      ['c-text', `{ type: http, behavior: classical, format: text, url: "${url('/c.txt')}" }`],
      ['d-inline', '{ type: inline, behavior: domain, payload: [+.inline.test] }'],
      ['i-inline', '{ type: inline, behavior: ipcidr, payload: [10.9.0.0/16] }'],
      ['c-inline', "{ type: inline, behavior: classical, payload: ['DOMAIN-KEYWORD,inlinekw'] }"],
    ];
    const dir = home();
    const h = await start(
      [
        `mixed-port: ${await freePort()}`,
        'rule-providers:',
        ...providers.map(([n, v]) => `  ${n}: ${v}`),
        'rules:',
        ...providers.map(([n]) => `  - RULE-SET,${n},REJECT`),
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
    );
    assert.ok(await eventually(() => h.generation.ruleSets.all().every((p) => p.loaded)), JSON.stringify(h.control.providers()));
    const cases: [string, string][] = [
      ['exact.dy.test', 'd-yaml'], ['www.exact.dy.test', ''], ['suffix.dy.test', 'd-yaml'], ['a.b.suffix.dy.test', 'd-yaml'],
      ['under.dy.test', ''], ['x.under.dy.test', 'd-yaml'], ['a.one.dy.test', 'd-yaml'], ['a.b.one.dy.test', ''],
      ['exact.dt.test', 'd-text'], ['x.suffix.dt.test', 'd-text'], ['under.dt.test', ''],
      // mrs: a `+.x` key also matches x (docs/config.md), so the `.under` entry's base matches too
      ['exact.d.test', 'd-mrs'], ['s.suffix.d.test', 'd-mrs'], ['suffix.d.test', 'd-mrs'], ['under.d.test', 'd-mrs'], ['q.under.d.test', 'd-mrs'], ['z.one.d.test', 'd-mrs'],
      ['10.2.3.4', 'i-yaml'], ['2001:db8:2::9', 'i-yaml'], ['10.3.255.255', 'i-text'], ['2001:db8:3:ffff::', 'i-text'],
      ['10.1.0.1', 'i-mrs'], ['192.0.2.200', 'i-mrs'], ['2001:db8:1::1', 'i-mrs'], ['192.0.3.1', ''], ['::ffff:10.1.2.3', 'i-mrs'],
      ['a.cy.test', 'c-yaml'], ['10.4.0.9', 'c-yaml'], ['ct.test', 'c-text'], ['www.ct.test', ''],
      ['www.inline.test', 'd-inline'], ['10.9.1.1', 'i-inline'], ['a.inlinekw.b', 'c-inline'], ['nothing.test', ''],
    ];
    for (const [dest, want] of cases) assert.equal(await matched(h, dest), want, dest);
    // classical: the AND with NETWORK,UDP sees the network; DST-PORT sees the port
    assert.equal((await h.generation.router.route(meta('both.test', 'udp'))).rule?.payload, 'c-yaml');
    assert.equal((await h.generation.router.route({ ...meta('1.1.1.1'), destination: { host: '1.1.1.1', port: 8080 } })).rule?.payload, 'c-text');

    const views = Object.fromEntries(h.control.providers().filter((p) => p.kind === 'rule').map((p) => [p.name, p]));
    assert.deepEqual(
      [views['d-yaml'].behavior, views['d-yaml'].format, views['d-yaml'].ruleCount, views['d-yaml'].vehicleType],
      ['Domain', 'YamlRule', 4, 'HTTP'],
    );
    assert.deepEqual([views['i-mrs'].behavior, views['i-mrs'].format, views['i-mrs'].ruleCount], ['IPCIDR', 'MrsRule', 3]);
    assert.deepEqual([views['c-text'].behavior, views['c-text'].format, views['c-text'].ruleCount], ['Classical', 'TextRule', 2]);
    assert.deepEqual([views['d-inline'].vehicleType, views['d-inline'].format, views['d-inline'].payload], ['Inline', '', ['+.inline.test']]);
    // the RuleSets seam (core/geo.ts) answers by name
    assert.equal(h.generation.ruleSets.get('d-text')?.domains().has('x.suffix.dt.test'), true);
    assert.equal(h.generation.ruleSets.get('i-text')?.ips().has('10.3.0.1'), true);
    assert.equal(h.generation.ruleSets.get('c-yaml')?.domains().has('q.cy.test'), true);
    assert.equal(h.generation.ruleSets.get('nope'), undefined);
    // http copies are written under rules/ (mihomo's cache dir)
    assert.equal(await h.control.updateRuleProvider('nope'), false);
  });

  test('mrs compressed by the real zstd reads the same; a wrong behaviour or garbage is refused', async () => {
    const dir = home();
    const entries: LogEntry[] = [];
    srv.bodies.set('/garbage.mrs', Buffer.from('not zstd at all'));
    const h = await start(
      [
        'rule-providers:',
        `  dz: { type: http, behavior: domain, format: mrs, url: "${url('/d-zstd.mrs')}" }`,
        `  iz: { type: http, behavior: ipcidr, format: mrs, url: "${url('/i-zstd.mrs')}" }`,
        `  wrong: { type: http, behavior: ipcidr, format: mrs, url: "${url('/d.mrs')}" }`,
        `  junk: { type: http, behavior: domain, format: mrs, url: "${url('/garbage.mrs')}" }`,
        'rules:',
        '  - RULE-SET,dz,REJECT',
        '  - RULE-SET,iz,REJECT',
        '  - RULE-SET,wrong,REJECT',
        '  - RULE-SET,junk,REJECT',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
      entries,
    );
    assert.ok(await eventually(() => h.generation.ruleSets.get('dz')!.loaded && h.generation.ruleSets.get('iz')!.loaded));
    assert.ok(await eventually(() => entries.filter((e) => /update failed/.test(e.message)).length >= 2), entries.map((e) => e.message).join('\n'));
    assert.equal(await matched(h, 'x.under.d.test'), 'dz');
    assert.equal(await matched(h, '192.0.2.1'), 'iz');
    assert.equal(h.generation.ruleSets.get('wrong')!.loaded, false);
    assert.ok(entries.some((e) => /wrong: update failed: invalid behavior/.test(e.message)));
    assert.ok(entries.some((e) => /junk: update failed: zstd/.test(e.message)));
  });

  test('malformed lines are skipped with a warning naming them; a file with no payload is refused', async () => {
    const entries: LogEntry[] = [];
    const h = await start(
      [
        'rule-providers:',
        `  bad: { type: http, behavior: domain, url: "${url('/bad.yaml')}" }`,
        `  badc: { type: http, behavior: classical, format: text, url: "${url('/bad-c.txt')}" }`,
        `  nop: { type: http, behavior: domain, url: "${url('/nopayload')}" }`,
        'rules:',
        '  - RULE-SET,bad,REJECT',
        '  - RULE-SET,badc,REJECT',
        '  - RULE-SET,nop,REJECT',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      home(),
      entries,
    );
    assert.ok(await eventually(() => h.generation.ruleSets.get('bad')!.loaded && h.generation.ruleSets.get('badc')!.loaded));
    assert.equal(h.generation.ruleSets.get('bad')!.count, 2);
    assert.equal(h.generation.ruleSets.get('badc')!.count, 1);
    const text = entries.map((e) => e.message).join('\n');
    assert.match(text, /bad: skipped line 4 "not a list entry": not a list entry/);
    assert.match(text, /bad: skipped "no\.\.good\.test": invalid domain \(empty label\)/);
    assert.match(text, /bad: skipped "trailing\.dot\.": invalid domain \(trailing dot\)/);
    assert.match(text, /badc: skipped "FOO,x": unknown rule type FOO/);
    assert.match(text, /badc: skipped "MATCH": unsupported rule type on classical rule-set: MATCH/);
    assert.match(text, /badc: skipped "RULE-SET,other": unsupported rule type on classical rule-set: RULE-SET/);
    assert.match(text, /badc: skipped "IP-CIDR,300\.1\.1\.1\/8": invalid IP-CIDR payload/);
    assert.ok(await eventually(() => /nop: update failed: file must have a `payload` field/.test(entries.map((e) => e.message).join('\n'))));
    assert.equal(await matched(h, 'also.good.bad.test'), 'bad');
    assert.equal(await matched(h, 'okc.test'), 'badc');
  });

  test('an oversized payload is refused; a 404 and a hang keep the copy on disk; ETag gives 304', async () => {
    const dir = home();
    mkdirSync(join(dir, 'keep'), { recursive: true });
    writeFileSync(join(dir, 'keep', '404.yaml'), yamlList(['kept404.test']));
    writeFileSync(join(dir, 'keep', 'hang.yaml'), yamlList(['kepthang.test']));
    const entries: LogEntry[] = [];
    const h = await start(
      [
        'rule-providers:',
        `  big: { type: http, behavior: domain, url: "${url('/big')}", size-limit: 1000 }`,
        `  p404: { type: http, behavior: domain, url: "${url('/404')}", path: keep/404.yaml }`,
        `  hang: { type: http, behavior: domain, url: "${url('/hang')}", path: keep/hang.yaml }`,
        `  etag: { type: http, behavior: domain, url: "${url('/etag')}", header: { X-Token: [t1] } }`,
        'rules:',
        '  - RULE-SET,big,REJECT',
        '  - RULE-SET,p404,REJECT',
        '  - RULE-SET,hang,REJECT',
        '  - RULE-SET,etag,REJECT',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
      entries,
      { providerFetchTimeoutMs: 1500 },
    );
    // the disk copies serve at once, whatever the fetches do
    assert.ok(await eventually(() => h.generation.ruleSets.get('p404')!.loaded && h.generation.ruleSets.get('hang')!.loaded && h.generation.ruleSets.get('etag')!.loaded));
    assert.equal(await matched(h, 'kept404.test'), 'p404');
    assert.equal(await matched(h, 'kepthang.test'), 'hang');
    assert.ok(await eventually(() => entries.filter((e) => /update failed/.test(e.message)).length >= 3), entries.map((e) => e.message).join('\n'));
    const text = entries.map((e) => e.message).join('\n');
    assert.match(text, /big: update failed: the body is larger than size-limit \(1000 bytes\)/);
    assert.match(text, /p404: update failed: HTTP 404/);
    assert.match(text, /hang: update failed: timed out/);
    assert.equal(h.generation.ruleSets.get('big')!.loaded, false);
    assert.equal(await matched(h, 'kept404.test'), 'p404');
    assert.equal(await matched(h, 'etag.test'), 'etag');
    // the second fetch sends the ETag and gets 304; the header went with both
    await h.control.updateRuleProvider('etag');
    const etagReqs = srv.seen.filter((s) => s.path === '/etag');
    assert.equal(etagReqs.length, 2);
    assert.equal(etagReqs[0].headers['x-token'], 't1');
    assert.equal(etagReqs[1].headers['if-none-match'], '"e1"');
    assert.equal(await matched(h, 'etag.test'), 'etag');
    await assert.rejects(h.control.updateRuleProvider('p404'), /HTTP 404/);
  });

  test('validators persist beside the copy (<copy>.meta.json): a restart asks conditionally and a 304 keeps the copy', async () => {
    const dir = home();
    const yaml = ['rule-providers:', `  lm: { type: http, behavior: domain, format: text, url: "${url('/lm.txt')}", path: rules/lm.txt }`, 'rules:', '  - RULE-SET,lm,REJECT', '  - MATCH,DIRECT', ''].join('\n');
    const first = await start(yaml, dir);
    const copy = join(dir, 'rules', 'lm.txt');
    assert.ok(await eventually(() => existsSync(`${copy}.meta.json`) && existsSync(copy)), 'validators and copy written');
    const validators = JSON.parse(readFileSync(`${copy}.meta.json`, 'utf8')) as Record<string, string>;
    assert.equal(validators.etag, '"lm1"');
    assert.equal(validators.lastModified, 'Wed, 02 Dec 2026 10:00:00 GMT');
    assert.equal(validators.sha256, createHash('sha256').update('lm.test\n').digest('hex'));
    await first.close(0);
    const before = srv.seen.filter((x) => x.path === '/lm.txt').length;
    // a restart with interval 0: the copy loads from disk, the fetch carries both validators
    const entries: LogEntry[] = [];
    const second = await start(yaml, dir, entries);
    assert.ok(await eventually(() => srv.seen.filter((x) => x.path === '/lm.txt').length > before));
    const asked = srv.seen.filter((x) => x.path === '/lm.txt')[before];
    assert.equal(asked.headers['if-none-match'], '"lm1"');
    assert.equal(asked.headers['if-modified-since'], 'Wed, 02 Dec 2026 10:00:00 GMT');
    assert.ok(await eventually(() => second.generation.ruleSets.get('lm')!.loaded));
    assert.equal(await matched(second, 'lm.test'), 'lm');
    assert.equal(readFileSync(copy, 'utf8'), 'lm.test\n');
    assert.ok(!entries.some((e) => /lm: update failed/.test(e.message)), entries.map((e) => e.message).join('\n'));
  });

  test('a refresh swaps the set; a provider not loaded matches nothing and says so once', async () => {
    const entries: LogEntry[] = [];
    const dir = home();
    const h = await start(
      [
        'rule-providers:',
        `  swap: { type: http, behavior: domain, url: "${url('/swap')}" }`,
        '  missing: { type: file, behavior: domain, path: ./nowhere.yaml }',
        'rules:',
        '  - RULE-SET,missing,REJECT',
        '  - RULE-SET,swap,REJECT',
        '  - MATCH,DIRECT',
        '',
      ].join('\n'),
      dir,
      entries,
    );
    assert.ok(await eventually(() => h.generation.ruleSets.get('swap')!.loaded));
    assert.equal(await matched(h, 'before.swap.test'), 'swap');
    for (let i = 0; i < 3; i++) assert.equal(await matched(h, 'x.test'), '');
    assert.equal(entries.filter((e) => /\[RuleSet\] missing is not loaded yet/.test(e.message)).length, 1);
    srv.bodies.set('/swap', yamlList(['after.swap.test']));
    assert.equal(await h.control.updateRuleProvider('swap'), true);
    assert.equal(await matched(h, 'after.swap.test'), 'swap');
    assert.equal(await matched(h, 'before.swap.test'), '');
  });

  test('a reload keeps a same provider\'s set until the new one loads (no window that matches nothing)', async () => {
    const dir = home();
    writeFileSync(join(dir, 'set.txt'), 'kept.reload.test\n');
    const yaml = (extra: string) =>
      ['rule-providers:', '  f: { type: file, behavior: domain, format: text, path: set.txt }', 'rules:', '  - RULE-SET,f,REJECT', `  - ${extra}`, '  - MATCH,DIRECT', ''].join('\n');
    const h = await start(yaml('DOMAIN,a.test,DIRECT'), dir);
    assert.ok(await eventually(() => h.generation.ruleSets.get('f')!.loaded));
    // the file is gone: the new generation cannot load it, yet the set carries over
    rmSync(join(dir, 'set.txt'));
    await h.reload(yaml('DOMAIN,b.test,DIRECT'));
    assert.equal(await matched(h, 'kept.reload.test'), 'f');
    assert.equal(h.generation.ruleSets.get('f')!.loaded, true);
    // other settings: a new provider, nothing carried over
    await h.reload(yaml('DOMAIN,b.test,DIRECT').replace('format: text, ', 'format: text, interval: 60, '));
    assert.equal(h.generation.ruleSets.get('f')!.loaded, false);
  });

  test('config errors: RULE-SET naming no provider, bad keys', async () => {
    const check = (yaml: string) => Host.check(yaml).then(
      () => '',
      (err: { issues?: { message: string }[] }) => (err.issues ?? []).map((i) => i.message).join('\n'),
    );
    assert.match(await check('rules:\n  - RULE-SET,nope,DIRECT\n'), /rule set \[nope\] not found/);
    assert.match(await check("rules:\n  - AND,((RULE-SET,nope),(NETWORK,tcp)),DIRECT\n"), /rule set \[nope\] not found/);
    assert.match(await check('rule-providers:\n  x: { type: http, behavior: domain }\n'), /an http rule-provider needs a url/);
    assert.match(await check('rule-providers:\n  x: { type: file, behavior: nope, path: a }\n'), /unsupported behavior type/);
    assert.match(await check('rule-providers:\n  x: { type: file, behavior: classical, format: mrs, path: a }\n'), /mrs format holds domain and ipcidr/);
    assert.match(await check('rule-providers:\n  x: { type: http, behavior: domain, url: "http://a/", proxy: nope }\n'), /proxy "nope" not found/);
    assert.match(await check('rule-providers:\n  x: { type: http, behavior: domain, url: "http://a/", path: ../../etc/x }\n'), /not subpath of home directory/);
    assert.equal(await check('rule-providers:\n  x: { type: inline, behavior: domain, payload: [a.test] }\nrules:\n  - RULE-SET,x,DIRECT,no-resolve\n'), '');
  });
});
