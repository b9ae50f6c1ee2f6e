/**
 * The REST controller against real clients: curl for every endpoint, the `ws` package for every
 * stream; auth, CORS, /ui traversal, bad bodies; live hashed tunnels through PUT /configs.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControllerService } from '../../src/api/service.js';
import { DashboardStorage, STORAGE_FILE } from '../../src/api/storage-file.js';
import { STREAM_BUFFER_LIMIT, WsSink } from '../../src/api/streams.js';
import { createLogger, type LogEntry } from '../../src/common/log.js';
import { Host } from '../../src/host/host.js';
import { eventually } from '../cluster/load.js';
import { HashedTunnel } from '../host/tunnels.js';
import { freePort } from '../support/ports.js';
import { tcpEcho, type Local } from '../support/servers.js';
import { curl, json, wsMessages, wsStatus } from './client.js';

const SECRET = 'p@ss w0rd';
const AUTH = ['-H', `Authorization: Bearer ${SECRET}`];

describe('REST controller', () => {
  let home: string;
  let host: Host;
  let ctl: ControllerService;
  let echo: Local;
  let web: Server;
  let webPort: number;
  let mixed: number;
  let api: number;
  let base: string;
  const lines: LogEntry[] = [];
  let restarts = 0;

  const config = (o: { apiPort?: number; rule?: string } = {}): string =>
    [
      `mixed-port: ${mixed}`,
      `external-controller: 127.0.0.1:${o.apiPort ?? api}`,
      `external-controller-unix: api.sock`,
      `external-controller-cors: { allow-origins: ["http://board.test"], allow-private-network: true }`,
      `secret: "${SECRET}"`,
      'external-ui: ui',
      'external-ui-name: board',
      'log-level: info',
      'proxies:',
      '  - { name: "ss 日本", type: ss, server: 127.0.0.1, port: 1, cipher: aes-128-gcm, password: x }',
      'proxy-providers:',
      '  sub: { type: inline, payload: [{ name: p1, type: socks5, server: 127.0.0.1, port: 1 }] }',
      'proxy-groups:',
      '  - { name: pick, type: select, proxies: [DIRECT, "ss 日本"] }',
      'rules:',
      `  - DST-PORT,${echo.port},pick`,
      ...(o.rule ? [o.rule] : []),
      '  - MATCH,DIRECT',
      '',
    ].join('\n');

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'clash-ts-api-'));
    const ui = join(home, 'ui', 'board');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>board</title>');
    writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(ui, 'assets', 'app.css'), 'body{}');
    writeFileSync(join(home, 'ui', 'secret.txt'), 'TOPSECRET');
    symlinkSync(join(home, 'ui', 'secret.txt'), join(ui, 'link.txt'));
    echo = await tcpEcho();
    web = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    webPort = (web.address() as { port: number }).port;
    mixed = await freePort();
    api = await freePort();
    base = `http://127.0.0.1:${api}`;
    const log = createLogger('info', () => {});
    log.subscribe((e) => lines.push(e));
    ctl = new ControllerService({
      log,
      homeDir: home,
      configFile: join(home, 'config.yaml'),
      restart: async () => {
        restarts++;
      },
    });
    host = await Host.start(config(), { log, services: [ctl] });
    ctl.serve(host.control);
  });
  after(async () => {
    await host?.close(0);
    await echo?.close();
    await new Promise((r) => web?.close(r));
  });

  test('auth: Bearer secret, ?token= only for WebSockets, 401 {"message":"Unauthorized"} otherwise', async () => {
    for (const args of [[], ['-H', 'Authorization: Bearer nope'], ['-H', `Authorization: Basic ${SECRET}`], ['-H', `Authorization: Bearer${SECRET}`]]) {
      const r = await curl([...args, `${base}/version`]);
      assert.equal(r.status, 401);
      assert.deepEqual(json(r), { message: 'Unauthorized' });
    }
    assert.equal((await curl([`${base}/version?token=${encodeURIComponent(SECRET)}`])).status, 401, 'token is for WebSockets');
    const ok = await curl([...AUTH, `${base}/version`]);
    assert.equal(ok.status, 200);
    assert.deepEqual(json(ok), { meta: true, version: json(ok).version });
    assert.match(json(ok).version, /^v\d+\.\d+\.\d+/);
    const ws = `ws://127.0.0.1:${api}/traffic`;
    assert.equal(await wsStatus(ws), 401);
    assert.equal(await wsStatus(`${ws}?token=wrong`), 401);
    assert.equal(await wsStatus(`${ws}?token=${encodeURIComponent(SECRET)}`), 0);
    assert.equal(await wsStatus(ws, { Authorization: `Bearer ${SECRET}` }), 0);
  });

  test('unknown routes 404, wrong methods 405, errors always {"message"}', async () => {
    const r = await curl([...AUTH, `${base}/no/such/route`]);
    assert.equal(r.status, 404);
    assert.deepEqual(json(r), { message: 'Resource not found' });
    const m = await curl([...AUTH, '-X', 'POST', `${base}/proxies`]);
    assert.equal(m.status, 405);
    assert.equal(typeof json(m).message, 'string');
    assert.equal(await wsStatus(`ws://127.0.0.1:${api}/rules?token=${encodeURIComponent(SECRET)}`), 404);
  });

  test('CORS: preflight answered for an allowed origin, nothing for another', async () => {
    const pre = (origin: string) =>
      curl(['-X', 'OPTIONS', '-H', `Origin: ${origin}`, '-H', 'Access-Control-Request-Method: PUT', '-H', 'Access-Control-Request-Headers: authorization, content-type', '-H', 'Access-Control-Request-Private-Network: true', `${base}/proxies/pick`]);
    const ok = await pre('http://board.test');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://board.test');
    assert.equal(ok.headers['access-control-allow-methods'], 'PUT');
    assert.match(ok.headers['access-control-allow-headers'], /authorization/);
    assert.equal(ok.headers['access-control-allow-private-network'], 'true');
    assert.equal(ok.headers['access-control-max-age'], '300');
    const no = await pre('http://evil.test');
    assert.equal(no.status, 204);
    assert.equal(no.headers['access-control-allow-origin'], undefined);
    const real = await curl([...AUTH, '-H', 'Origin: http://board.test', `${base}/`]);
    assert.equal(real.headers['access-control-allow-origin'], 'http://board.test');
    assert.deepEqual(json(real), { hello: 'mihomo' });
  });

  test('external-ui at /ui/ with content types; no way out of the folder', async () => {
    const redirect = await curl([`${base}/ui`]);
    assert.equal(redirect.status, 307);
    assert.equal(redirect.headers.location, '/ui/');
    const index = await curl([`${base}/ui/`]);
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type'], /^text\/html/);
    assert.match(index.body, /<title>board/);
    assert.match((await curl([`${base}/ui/assets/app.js`])).headers['content-type'], /^text\/javascript/);
    assert.match((await curl([`${base}/ui/assets/app.css`])).headers['content-type'], /^text\/css/);
    for (const p of ['/ui/../secret.txt', '/ui/%2e%2e/secret.txt', '/ui/..%2fsecret.txt', '/ui/assets/..%2f..%2fsecret.txt', '/ui/%2e%2e%5csecret.txt', '/ui/link.txt', '/ui/index.html%00.js', '/ui/nope.js']) {
      const r = await curl(['--path-as-is', `${base}${p}`]);
      assert.ok(r.status === 404 || r.status === 401, `${p}: ${r.status}`);
      assert.doesNotMatch(r.body, /TOPSECRET/, p);
    }
  });

  test('proxies and groups: mihomo shapes, select, delay', async () => {
    const all = json(await curl([...AUTH, `${base}/proxies`])).proxies;
    // the built-ins lead (mihomo's JSON map has no order of its own)
    assert.deepEqual(Object.keys(all).slice(0, 5).sort(), ['COMPATIBLE', 'DIRECT', 'PASS', 'REJECT', 'REJECT-DROP']);
    assert.equal(all['ss 日本'].type, 'Shadowsocks');
    assert.equal(all.pick.type, 'Selector');
    assert.deepEqual(all.pick.all, ['DIRECT', 'ss 日本']);
    assert.equal(all.GLOBAL.type, 'Selector');
    const name = encodeURIComponent('ss 日本');
    assert.equal(json(await curl([...AUTH, `${base}/proxies/${name}`])).name, 'ss 日本');
    assert.equal((await curl([...AUTH, `${base}/proxies/missing`])).status, 404);
    const put = (group: string, body: string) => curl([...AUTH, '-X', 'PUT', '-H', 'Content-Type: application/json', '-d', body, `${base}/proxies/${group}`]);
    assert.equal((await put('pick', JSON.stringify({ name: 'ss 日本' }))).status, 204);
    assert.equal(json(await curl([...AUTH, `${base}/proxies/pick`])).now, 'ss 日本');
    assert.equal((await put('pick', JSON.stringify({ name: 'DIRECT' }))).status, 204);
    const notSel = await put(name, '{"name":"DIRECT"}');
    assert.equal(notSel.status, 400);
    assert.deepEqual(json(notSel), { message: 'Must be a Selector' });
    assert.equal((await put('pick', '{"name":"nobody"}')).status, 400);
    assert.equal((await put('pick', '{"name":5}')).status, 400);
    assert.equal((await put('pick', '{"name":')).status, 400);
    assert.equal((await curl([...AUTH, '-X', 'DELETE', `${base}/proxies/pick`])).status, 400);
    const url = encodeURIComponent(`http://127.0.0.1:${webPort}/`);
    const d = await curl([...AUTH, `${base}/proxies/DIRECT/delay?url=${url}&timeout=2000`]);
    assert.equal(d.status, 200, d.body);
    assert.equal(typeof json(d).delay, 'number');
    assert.equal(json(await curl([...AUTH, `${base}/proxies/DIRECT`])).history.length, 1);
    assert.equal((await curl([...AUTH, `${base}/proxies/DIRECT/delay?url=${url}`])).status, 400, 'timeout is required');
    assert.equal((await curl([...AUTH, `${base}/proxies/DIRECT/delay?url=${url}&timeout=2000&expected=999-1`])).status, 400);
    const bad = await curl([...AUTH, `${base}/proxies/${name}/delay?url=${url}&timeout=1000`]);
    assert.ok(bad.status === 503 || bad.status === 504, bad.body);
    const groups = json(await curl([...AUTH, `${base}/group`])).proxies;
    assert.ok(Array.isArray(groups));
    assert.deepEqual(groups.map((g: { name: string }) => g.name), ['pick', 'GLOBAL']);
    assert.equal(json(await curl([...AUTH, `${base}/group/pick`])).type, 'Selector');
    assert.equal((await curl([...AUTH, `${base}/group/DIRECT`])).status, 404);
    const gd = json(await curl([...AUTH, `${base}/group/pick/delay?url=${url}&timeout=1500`]));
    assert.equal(typeof gd.DIRECT, 'number');
    assert.equal(gd['ss 日本'], undefined, 'failed members are absent');
  });

  test('providers, rules, dns, caches, storage, restart, upgrade', async () => {
    const all = json(await curl([...AUTH, `${base}/providers/proxies`])).providers;
    assert.deepEqual(Object.keys(all), ['sub']);
    assert.equal(all.sub.type, 'Proxy');
    assert.equal(all.sub.vehicleType, 'Inline');
    assert.deepEqual(all.sub.proxies.map((p: { name: string; type: string }) => [p.name, p.type]), [['p1', 'Socks5']]);
    assert.deepEqual(json(await curl([...AUTH, `${base}/providers/proxies/sub`])).name, 'sub');
    assert.equal(json(await curl([...AUTH, `${base}/providers/proxies/sub/p1`])).name, 'p1');
    assert.equal((await curl([...AUTH, `${base}/providers/proxies/sub/nobody`])).status, 404);
    assert.equal((await curl([...AUTH, '-X', 'PUT', `${base}/providers/proxies/sub`])).status, 204);
    assert.equal((await curl([...AUTH, `${base}/providers/proxies/sub/healthcheck`])).status, 204); // runs the (url-less) provider check, as mihomo
    assert.deepEqual(json(await curl([...AUTH, `${base}/providers/rules`])), { providers: {} });
    assert.equal((await curl([...AUTH, `${base}/providers/proxies/x`])).status, 404);
    assert.equal((await curl([...AUTH, `${base}/providers/proxies/x/healthcheck`])).status, 404);
    const rules = json(await curl([...AUTH, `${base}/rules`])).rules;
    assert.deepEqual(rules[0], { type: 'DstPort', payload: String(echo.port), proxy: 'pick', size: -1 });
    assert.equal(rules.at(-1).type, 'Match');
    const q = json(await curl([...AUTH, `${base}/dns/query?name=localhost&type=A`]));
    assert.equal(q.Status, 0);
    assert.equal(q.Answer[0].data, '127.0.0.1');
    assert.equal((await curl([...AUTH, `${base}/dns/query?name=localhost&type=BOGUS`])).status, 400);
    assert.equal((await curl([...AUTH, '-X', 'POST', `${base}/cache/fakeip/flush`])).status, 204);
    assert.equal((await curl([...AUTH, '-X', 'POST', `${base}/cache/dns/flush`])).status, 204);
    assert.equal(json(await curl([...AUTH, `${base}/storage/zashboard`])), null);
    assert.equal((await curl([...AUTH, '-X', 'PUT', '-d', '{"theme":"dark"}', `${base}/storage/zashboard`])).status, 204);
    assert.deepEqual(json(await curl([...AUTH, `${base}/storage/zashboard`])), { theme: 'dark' });
    // kept in the home dir: what the next process reads
    const kept = () => new DashboardStorage(join(home, STORAGE_FILE), createLogger('info', () => {})).get('zashboard');
    assert.ok(await eventually(() => kept() === '{"theme":"dark"}'), 'persisted');
    assert.equal((await curl([...AUTH, '-X', 'PUT', '-d', '{"theme":', `${base}/storage/zashboard`])).status, 400);
    const big = join(home, 'storage-big.json');
    writeFileSync(big, JSON.stringify('x'.repeat(300 * 1024)));
    assert.equal((await curl([...AUTH, '-X', 'PUT', '--data-binary', `@${big}`, `${base}/storage/big`])).status, 400);
    assert.equal((await curl([...AUTH, '-X', 'DELETE', `${base}/storage/zashboard`])).status, 204);
    assert.equal(json(await curl([...AUTH, `${base}/storage/zashboard`])), null);
    assert.ok(await eventually(() => kept() === undefined), 'the delete persisted');
    const rs = await curl([...AUTH, '-X', 'POST', `${base}/restart`]);
    assert.deepEqual(json(rs), { status: 'ok' });
    assert.ok(await eventually(() => restarts === 1));
    for (const p of ['/upgrade', '/upgrade/ui']) {
      const r = await curl([...AUTH, '-X', 'POST', `${base}${p}`]);
      assert.equal(r.status, 501, p);
      assert.match(json(r).message, /clash-ts/);
    }
    // no rule uses a geo database: nothing to download, done
    for (const p of ['/upgrade/geo', '/configs/geo']) assert.equal((await curl([...AUTH, '-X', 'POST', `${base}${p}`])).status, 204, p);
  });

  test('bad bodies get 400 and the controller keeps answering', async () => {
    const big = join(home, 'big.json');
    writeFileSync(big, `{"payload":"${'x'.repeat(10 << 20)}"}`);
    for (const [method, path, body] of [
      ['PATCH', '/configs', '{"mode":'],
      ['PATCH', '/configs', '{"mode":5}'],
      ['PATCH', '/configs', '{"mixed-port":"x"}'],
      ['PATCH', '/configs', '{"allow-lan":"yes"}'],
      ['PATCH', '/configs', '[1,2'],
      ['PUT', '/configs', '{"payload":'],
      ['PUT', '/configs', '{"payload":7}'],
      ['PUT', '/configs', '{"payload":"mode: [unclosed"}'],
      ['PUT', '/configs?force=true', '{"payload":"rules: [MATCH,nowhere]"}'],
      ['PUT', '/configs', '{"path":"relative/config.yaml"}'],
      ['PUT', '/configs', '{"path":"/etc/passwd"}'],
      ['PUT', '/configs', `{"path":"${home}/../x.yaml"}`],
    ]) {
      const r = await curl([...AUTH, '-X', method, '-d', body, `${base}${path}`]);
      assert.equal(r.status, 400, `${method} ${path} ${body}: ${r.body}`);
      assert.equal(typeof json(r).message, 'string');
    }
    for (const [method, path] of [['PUT', '/configs'], ['PATCH', '/configs'], ['PUT', '/proxies/pick']]) {
      const r = await curl([...AUTH, '-X', method, '-H', 'Content-Type: application/json', '--data-binary', `@${big}`, `${base}${path}`]);
      assert.equal(r.status, 400, `${method} ${path} with 10 MB`);
    }
    assert.equal((await curl([...AUTH, `${base}/`])).status, 200);
    assert.equal(host.generation.id, 1, 'nothing was swapped in');
  });

  test('streams: /traffic and /memory chunked and over WebSocket; /logs with level and structured format', async () => {
    const chunked = await curl([...AUTH, '--max-time', '2.6', `${base}/traffic`], 3).catch(() => undefined);
    // curl ends with a timeout (exit 28) after printing the lines it got
    if (chunked) {
      const got = chunked.body.trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(got.length >= 2, chunked.body);
      assert.deepEqual(Object.keys(got[0]), ['up', 'down']);
    }
    const tok = `token=${encodeURIComponent(SECRET)}`;
    const t = await wsMessages(`ws://127.0.0.1:${api}/traffic?${tok}`, 2, { timeoutMs: 4000 });
    assert.equal(typeof t[1].up, 'number');
    const m = await wsMessages(`ws://127.0.0.1:${api}/memory?${tok}`, 2, { timeoutMs: 4000 });
    assert.equal(m[0].inuse, 0);
    assert.ok(m[1].inuse > 0);
    assert.equal(m[1].oslimit, 0);
    assert.equal((await curl([...AUTH, `${base}/logs?level=loud`])).status, 400);
    assert.equal(await wsStatus(`ws://127.0.0.1:${api}/logs?level=loud&${tok}`), 400);
    const plain = wsMessages(`ws://127.0.0.1:${api}/logs?level=info&${tok}`, 1, { timeoutMs: 5000 });
    const structured = wsMessages(`ws://127.0.0.1:${api}/logs?level=warning&format=structured&${tok}`, 1, { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 200));
    host.log.info('hello from the test');
    host.log.warn('a warning from the test');
    const [p] = await plain;
    assert.deepEqual(p, { type: 'info', payload: 'hello from the test' });
    const [s] = await structured;
    assert.equal(s.level, 'warn');
    assert.equal(s.message, 'a warning from the test');
    assert.match(s.time, /^\d\d:\d\d:\d\d$/);
    assert.deepEqual(s.fields, []);
  });

  test('a stream reader that falls behind is dropped, not buffered for', () => {
    let terminated = false;
    const fake = { bufferedAmount: 0, send() {}, close() {}, terminate: () => (terminated = true), on() {} };
    const sink = new WsSink(fake as never);
    assert.equal(sink.send({ a: 1 }), true);
    fake.bufferedAmount = STREAM_BUFFER_LIMIT + 1;
    assert.equal(sink.send({ a: 2 }), false);
    assert.ok(terminated);
    assert.ok(sink.closed);
  });

  test('connections: snapshot, WebSocket with interval, close one; /metrics counts them', async () => {
    const t = await HashedTunnel.open(mixed, echo.port);
    await t.round(4096);
    const snap = json(await curl([...AUTH, `${base}/connections`]));
    assert.equal(typeof snap.uploadTotal, 'number');
    const c = snap.connections.find((x: any) => x.metadata.destinationPort === String(echo.port));
    assert.ok(c, JSON.stringify(snap));
    assert.equal(c.metadata.type, 'Socks5');
    assert.equal(c.metadata.network, 'tcp');
    assert.equal(c.metadata.inboundName, 'DEFAULT-MIXED');
    assert.equal(c.metadata.inboundPort, String(mixed));
    assert.equal(c.metadata.destinationIP, '127.0.0.1');
    assert.deepEqual(c.chains, ['DIRECT', 'pick']);
    assert.equal(c.rule, 'DstPort');
    assert.match(c.start, /^\d{4}-\d\d-\d\dT/);
    const tok = `token=${encodeURIComponent(SECRET)}`;
    const started = Date.now();
    const frames = await wsMessages(`ws://127.0.0.1:${api}/connections?interval=200&${tok}`, 3, { timeoutMs: 4000 });
    assert.ok(Date.now() - started < 2000, 'interval honoured');
    assert.ok(frames[2].connections.some((x: any) => x.id === c.id));
    assert.equal(await wsStatus(`ws://127.0.0.1:${api}/connections?interval=abc&${tok}`), 400);
    const metrics = await curl([...AUTH, `${base}/metrics`]);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /clash_connections\{inbound="DEFAULT-MIXED",chain="DIRECT > pick"\} 1/);
    assert.match(metrics.body, /# TYPE clash_upload_bytes_total counter\nclash_upload_bytes_total \d+/);
    assert.match(metrics.body, /clash_event_loop_delay_recent_seconds\{quantile="0.99"\} /);
    assert.match(metrics.body, /# TYPE clash_warm_pool_hits_total counter/);
    assert.equal((await curl([`${base}/metrics`])).status, 401);
    assert.equal((await curl([...AUTH, '-X', 'DELETE', `${base}/connections/${c.id}`])).status, 204);
    assert.ok(await eventually(() => !host.control.connections().some((x) => x.id === c.id)), 'closed');
    t.socket.destroy();
    assert.equal((await curl([...AUTH, '-X', 'DELETE', `${base}/connections`])).status, 204);
  });

  test('the Unix socket answers without the secret', async () => {
    const r = await curl(['--unix-socket', join(home, 'api.sock'), 'http://localhost/proxies/pick']);
    assert.equal(r.status, 200);
    assert.equal(json(r).name, 'pick');
  });

  test('PATCH ipv6 applies live (AAAA answers stop and resume), GET /configs shows it, a PATCH that reloads keeps it', async () => {
    const patch = (body: string) => curl([...AUTH, '-X', 'PATCH', '-d', body, `${base}/configs`]);
    const aaaa = async () => json(await curl([...AUTH, `${base}/dns/query?name=::1&type=AAAA`])).Answer;
    assert.equal(json(await curl([...AUTH, `${base}/configs`])).ipv6, true);
    assert.deepEqual((await aaaa()).map((a: any) => a.data), ['::1']);
    const gen = host.generation.id;
    assert.equal((await patch('{"ipv6":false}')).status, 204);
    assert.equal(host.generation.id, gen, 'no reload');
    assert.equal(json(await curl([...AUTH, `${base}/configs`])).ipv6, false);
    assert.equal(await aaaa(), undefined);
    assert.deepEqual(await host.resolver.resolve6('::1'), []);
    // with a port in the same PATCH (a reload of the patched text), ipv6 stays as patched
    assert.equal((await patch(`{"ipv6":false,"mixed-port":${mixed},"allow-lan":true}`)).status, 204);
    assert.equal(json(await curl([...AUTH, `${base}/configs`])).ipv6, false);
    assert.equal((await patch('{"ipv6":true,"allow-lan":false}')).status, 204);
    assert.equal(json(await curl([...AUTH, `${base}/configs`])).ipv6, true);
    assert.deepEqual((await aaaa()).map((a: any) => a.data), ['::1']);
    assert.equal((await patch('{"ipv6":"no"}')).status, 400);
  });

  test('PATCH mode and log level live; PUT /configs reloads (payload, path) with live tunnels intact; a new address rebinds', async () => {
    const tunnels = await Promise.all(Array.from({ length: 20 }, () => HashedTunnel.open(mixed, echo.port)));
    const rounds = async () => {
      for (let i = 0; i < 3; i++) await Promise.all(tunnels.map((t, j) => t.round(1024 + j * 37 + i)));
    };
    await rounds();
    const patch = (body: string) => curl([...AUTH, '-X', 'PATCH', '-d', body, `${base}/configs`]);
    const g0 = host.generation.id;
    assert.equal((await patch('{"mode":"Global","log-level":"warning"}')).status, 204);
    let cfg = json(await curl([...AUTH, `${base}/configs`]));
    assert.equal(cfg.mode, 'global');
    assert.equal(cfg['log-level'], 'warning');
    assert.equal(cfg['mixed-port'], mixed);
    assert.equal((await patch(`{"mode":"rule","log-level":"info","mixed-port":${mixed},"allow-lan":false}`)).status, 204);
    assert.equal(host.generation.id, g0, 'unchanged ports need no reload');
    const during = rounds();
    const put = await curl([...AUTH, '-X', 'PUT', '-d', JSON.stringify({ payload: config({ rule: `  - DST-PORT,${webPort},REJECT` }) }), `${base}/configs?force=true`]);
    assert.equal(put.status, 204, put.body);
    await during;
    await rounds();
    assert.equal(host.generation.id, g0 + 1);
    assert.ok(json(await curl([...AUTH, `${base}/rules`])).rules.some((r: any) => r.payload === String(webPort)));
    // from a file in the home dir
    writeFileSync(join(home, 'config.yaml'), config());
    assert.equal((await curl([...AUTH, '-X', 'PUT', '-d', '{}', `${base}/configs`])).status, 204);
    assert.equal(host.generation.id, g0 + 2);
    assert.equal((await curl([...AUTH, '-X', 'PUT', '-d', JSON.stringify({ path: join(home, 'config.yaml') }), `${base}/configs`])).status, 204);
    await rounds();
    for (const t of tunnels) assert.deepEqual(t.verify().ok, true);
    // a new controller address: the old one stops, the new one answers
    const next = await freePort();
    assert.equal((await curl([...AUTH, '-X', 'PUT', '-d', JSON.stringify({ payload: config({ apiPort: next }) }), `${base}/configs`])).status, 204);
    assert.ok(await eventually(() => ctl.address()?.port === next));
    assert.equal((await curl([...AUTH, `http://127.0.0.1:${next}/version`])).status, 200);
    assert.ok(await curl([...AUTH, '--max-time', '2', `${base}/version`]).then((r) => r.status === 0, () => true), 'the old address is closed');
    await rounds();
    for (const t of tunnels) assert.deepEqual(t.verify().ok, true);
    await Promise.all(tunnels.map((t) => t.end()));
    assert.ok(lines.some((l) => l.message.includes(`RESTful API listening at: 127.0.0.1:${next}`)));
  });
});

test('a controller on a non-loopback address without a secret warns', async () => {
  const lines: LogEntry[] = [];
  const log = createLogger('info', () => {});
  log.subscribe((e) => lines.push(e));
  const home = mkdtempSync(join(tmpdir(), 'clash-ts-api-'));
  const port = await freePort('0.0.0.0');
  const ctl = new ControllerService({ log, homeDir: home });
  const host = await Host.start(`external-controller: 0.0.0.0:${port}\nrules: ["MATCH,DIRECT"]\n`, { log, services: [ctl] });
  try {
    ctl.serve(host.control);
    assert.ok(lines.some((l) => l.level === 'warning' && /no secret/.test(l.message)));
    assert.equal((await curl([`http://127.0.0.1:${port}/`])).status, 200);
  } finally {
    await host.close(0);
  }
});
