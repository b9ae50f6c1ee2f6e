import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import { ConfigError } from '../../src/core/config-issue.js';
import { innerMetadata } from '../../src/core/metadata.js';
import { geoDownloader } from '../../src/geo/download.js';
import { GeoAutoUpdater } from '../../src/geo/update.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { createDirect } from '../../src/protocol/direct/outbound.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { Host } from '../../src/host/host.js';
import { freePort } from '../support/ports.js';
import { encodeGeoSite, metaSpec, writeMmdb } from './support/geo-files.js';

/** What the local server answers for a path. */
interface Answer {
  status?: number;
  body?: Buffer;
  /** announce this length but send only `body` (a cut download) */
  length?: number;
  location?: string;
}

const work = mkdtempSync(join(tmpdir(), 'clash-ts-geo-dl-'));
const files: Record<string, Buffer> = {};
const answers = new Map<string, Answer>();
let served: string[] = [];
let server: http.Server;
let base = '';

before(async () => {
  writeMmdb(join(work, 'v1.mmdb'), metaSpec([['1.0.1.0/24', 'cn']]));
  writeMmdb(join(work, 'v2.mmdb'), metaSpec([['1.0.1.0/24', 'jp']]));
  files.v1 = readFileSync(join(work, 'v1.mmdb'));
  files.v2 = readFileSync(join(work, 'v2.mmdb'));
  // big enough for every progress step to be its own chunk-sized line
  const many = Array.from({ length: 20_000 }, (_, i) => ({ type: 2 as const, value: `d${i}.example` }));
  files.site = encodeGeoSite({ cn: [{ type: 2, value: 'qq.com' }], big: many });
  server = http.createServer((req, res) => {
    served.push(req.url ?? '');
    const a = answers.get(req.url ?? '') ?? { status: 404, body: Buffer.from('not found') };
    const headers: http.OutgoingHttpHeaders = {};
    if (a.location) headers.location = a.location;
    if (a.body) headers['content-length'] = String(a.length ?? a.body.length);
    res.writeHead(a.status ?? 200, headers);
    if (a.length !== undefined && a.body) {
      res.write(a.body);
      res.socket?.destroy();
      return;
    }
    res.end(a.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(work, { recursive: true, force: true });
});

function freshHome(): string {
  return mkdtempSync(join(work, 'home-'));
}

function config(extra = '', rules = '  - GEOIP,CN,REJECT\n  - MATCH,DIRECT\n'): string {
  return `log-level: info\ngeox-url:\n  mmdb: ${base}/geoip.metadb\n  geosite: ${base}/geosite.dat\n${extra}rules:\n${rules}`;
}

function logger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger('info', () => {});
  log.subscribe((e: LogEntry) => lines.push(`${e.level} ${e.message}`));
  return { log, lines };
}

async function target(host: Host, ip: string): Promise<string> {
  const r = await host.generation.router.route(innerMetadata({ host: ip, port: 80 }));
  return r.rule ? `${r.rule.type}(${r.rule.payload})` : 'none';
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

describe('geo databases downloaded from geox-url', () => {
  it('a missing file is downloaded at start, with progress lines, and the rules use it', async () => {
    const home = freshHome();
    answers.set('/geoip.metadb', { body: files.v1 });
    answers.set('/geosite.dat', { body: files.site });
    const { log, lines } = logger();
    const host = await Host.start(config('', '  - GEOSITE,big,REJECT\n  - GEOIP,CN,REJECT\n  - MATCH,DIRECT\n'), { homeDir: home, log });
    try {
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v1);
      assert.deepEqual(readFileSync(join(home, 'GeoSite.dat')), files.site);
      assert.equal(await target(host, '1.0.1.1'), 'GeoIP(cn)');
      const text = lines.join('\n');
      assert.match(text, /info Can't find GeoSite.dat, start download/);
      assert.match(text, /info \[GEO\] Downloading GeoSite.dat \(0\.\d MB\) from http:\/\/127\.0\.0\.1:\d+\/geosite.dat/);
      assert.match(text, /info \[GEO\] Downloading GeoSite.dat: 0\.\d MB of 0\.\d MB \(50%\)/);
      assert.match(text, /info Download GeoSite.dat finish/);
      assert.match(text, /info Download geoip.metadb finish/);
      assert.deepEqual(leftovers(home), []);
    } finally {
      await host.close(0);
    }
  });

  it('redirects are followed', async () => {
    const home = freshHome();
    answers.set('/moved.metadb', { status: 302, location: '/geoip.metadb' });
    answers.set('/geoip.metadb', { body: files.v1 });
    const host = await Host.start(config().replace('/geoip.metadb', '/moved.metadb'), { homeDir: home, log: createLogger('silent') });
    await host.close(0);
    assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v1);
  });

  it('404, a corrupt body and a cut body are config errors naming the file; nothing is written', async () => {
    for (const [answer, why] of [
      [{ status: 404, body: Buffer.from('nope') }, /can't download geoip.metadb: HTTP 404/],
      [{ body: Buffer.from('<html>an error page</html>') }, /can't download geoip.metadb: invalid MMDB database file: not a MaxMind database/],
      [{ body: files.v1.subarray(0, 100), length: files.v1.length }, /can't download geoip.metadb: .*(after 100 of|closed the connection|socket hang up|aborted)/],
    ] as const) {
      const home = freshHome();
      answers.set('/geoip.metadb', answer);
      await assert.rejects(Host.start(config(), { homeDir: home, log: createLogger('silent') }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.issues.length, 1);
        assert.match(err.issues[0].message, why);
        assert.match(err.issues[0].message, /needed by "GEOIP,CN,REJECT"/);
        return true;
      });
      assert.ok(!existsSync(join(home, 'geoip.metadb')));
      assert.deepEqual(leftovers(home), []);
    }
  });

  it('a corrupt file at start is replaced by a download (mihomo: invalid, remove and download)', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'Country.mmdb'), 'junk');
    answers.set('/geoip.metadb', { body: files.v1 });
    const { log, lines } = logger();
    const host = await Host.start(config(), { homeDir: home, log });
    try {
      assert.deepEqual(readFileSync(join(home, 'Country.mmdb')), files.v1);
      assert.equal(await target(host, '1.0.1.1'), 'GeoIP(cn)');
      assert.ok(lines.some((l) => /^warning Country.mmdb invalid, download again: not a MaxMind database/.test(l)), lines.join('\n'));
    } finally {
      await host.close(0);
    }
  });

  it('a body over the size limit is refused while it arrives', async () => {
    const home = freshHome();
    answers.set('/geoip.metadb', { body: files.v1 });
    const resolver = createSystemResolver({ ipv6: false });
    const direct = createDirect('DIRECT', { resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) });
    const download = geoDownloader({ outbound: () => direct, log: createLogger('silent'), maxBytes: 100 });
    try {
      await assert.rejects(download('MMDB', `${base}/geoip.metadb`, join(home, 'geoip.metadb'), () => {}), /larger than 100 bytes/);
      assert.deepEqual(readdirSync(home), []);
    } finally {
      resolver.close();
    }
  });

  it('-t (Host.check) never downloads', async () => {
    const home = freshHome();
    answers.set('/geoip.metadb', { body: files.v1 });
    served = [];
    await assert.rejects(Host.check(config(), { homeDir: home }), /can't find geoip.metadb/);
    assert.deepEqual(served, []);
  });
});

describe('updates (POST /configs/geo, geo-auto-update)', () => {
  it('a changed database replaces the file atomically and the rules follow it after the reload', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    const host = await Host.start(config('', '  - GEOIP,CN,REJECT\n  - GEOIP,JP,REJECT-DROP\n  - MATCH,DIRECT\n'), { homeDir: home, log: createLogger('silent') });
    try {
      assert.equal(await target(host, '1.0.1.1'), 'GeoIP(cn)');
      // a reload with the files unchanged reuses the databases and their sets
      const geo = host.generation.geo;
      await host.reload(host.configText!);
      assert.equal(host.generation.geo, geo);
      const gen = host.generation.id;
      answers.set('/geoip.metadb', { body: files.v2 });
      await host.control.updateGeo();
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v2);
      assert.ok(host.generation.id > gen);
      assert.equal(await target(host, '1.0.1.1'), 'GeoIP(jp)');
      assert.notEqual(host.generation.geo, geo);
      // the same bytes again: no reload
      const now = host.generation.id;
      await host.control.updateGeo();
      assert.equal(host.generation.id, now);
    } finally {
      await host.close(0);
    }
  });

  it('a corrupt or cut download is refused and the previous copy and rules stay', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    const host = await Host.start(config(), { homeDir: home, log: createLogger('silent') });
    try {
      for (const [answer, why] of [
        [{ body: Buffer.from('garbage') }, /invalid MMDB database file/],
        [{ body: files.v2.subarray(0, files.v2.length - 10) }, /invalid MMDB database file/],
        [{ body: files.v2.subarray(0, 50), length: files.v2.length }, /can't download MMDB database file/],
        [{ status: 404 }, /HTTP 404/],
      ] as const) {
        answers.set('/geoip.metadb', answer);
        const gen = host.generation.id;
        await assert.rejects(host.control.updateGeo(), why);
        assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v1);
        assert.equal(host.generation.id, gen);
        assert.equal(await target(host, '1.0.1.1'), 'GeoIP(cn)');
        assert.deepEqual(leftovers(home), []);
      }
    } finally {
      await host.close(0);
    }
  });

  it('an update goes through the running rules (here: a rule rejects the geox-url port)', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    answers.set('/geoip.metadb', { body: files.v2 });
    const port = new URL(base).port;
    const host = await Host.start(config('', `  - DST-PORT,${port},REJECT\n  - GEOIP,CN,REJECT\n  - MATCH,DIRECT\n`), { homeDir: home, log: createLogger('silent') });
    try {
      served = [];
      await assert.rejects(host.control.updateGeo(), /can't download MMDB database file/);
      assert.deepEqual(served, []);
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v1);
    } finally {
      await host.close(0);
    }
  });

  it('POST /configs/geo through the REST controller', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    answers.set('/geoip.metadb', { body: files.v2 });
    const api = await freePort();
    const log = createLogger('silent');
    const ctl = new ControllerService({ log, homeDir: home });
    const host = await Host.start(config(`external-controller: 127.0.0.1:${api}\n`), { homeDir: home, log, services: [ctl] });
    ctl.serve(host.control);
    try {
      const ok = await fetch(`http://127.0.0.1:${api}/configs/geo`, { method: 'POST' });
      assert.equal(ok.status, 204);
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v2);
      answers.set('/geoip.metadb', { body: Buffer.from('garbage') });
      const bad = await fetch(`http://127.0.0.1:${api}/configs/geo`, { method: 'POST' });
      assert.equal(bad.status, 500);
      assert.match(((await bad.json()) as { message: string }).message, /invalid MMDB database file/);
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v2);
    } finally {
      await host.close(0);
    }
  });

  it('geo-auto-update updates at start when the newest file is older than the interval, not when fresh', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    let calls = 0;
    const make = () => new GeoAutoUpdater({ intervalHours: 24, homeDir: home, kinds: ['mmdb'], log: createLogger('silent'), update: async () => void calls++ });
    const fresh = make();
    await fresh.start();
    fresh.close();
    assert.equal(calls, 0);
    const old = (Date.now() - 48 * 3_600_000) / 1000;
    utimesSync(join(home, 'geoip.metadb'), old, old);
    const stale = make();
    await stale.start();
    stale.close();
    assert.equal(calls, 1);
  });

  it('geo-auto-update in the config runs one update at start for a stale file', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'geoip.metadb'), files.v1);
    const old = (Date.now() - 48 * 3_600_000) / 1000;
    utimesSync(join(home, 'geoip.metadb'), old, old);
    answers.set('/geoip.metadb', { body: files.v2 });
    const { log, lines } = logger();
    const host = await Host.start(config('geo-auto-update: true\ngeo-update-interval: 24\n'), { homeDir: home, log });
    try {
      for (let i = 0; i < 200 && !lines.some((l) => /configuration reloaded/.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(readFileSync(join(home, 'geoip.metadb')), files.v2);
      assert.ok(lines.some((l) => /Database has not been updated for 24h, update now/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /configuration reloaded/.test(l)), lines.join('\n'));
    } finally {
      await host.close(0);
    }
  });
});
