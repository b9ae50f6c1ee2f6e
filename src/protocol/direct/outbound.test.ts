import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { createLogger } from '../../common/log.js';
import type { Address } from '../../core/address.js';
import { hasCode } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import type { Dialer, PacketConn } from '../../core/outbound.js';
import { createSystemResolver, type SystemResolver } from '../../dns/system-resolver.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import type { OutboundDeps } from '../registry.js';
import { directSchema } from './options.js';
import { createDirect, directDefinition } from './outbound.js';

let dir: string;
let resolver: SystemResolver;
let deps: OutboundDeps;
const logLines: string[] = [];
const servers: Server[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'direct-'));
  resolver = createSystemResolver({ ipv6: true, hostsFile: join(dir, 'none'), servers: ['127.0.0.1:9'], timeoutMs: 200 });
  deps = { resolver, log: createLogger('debug', (l) => void logLines.push(l)), dialer: createSystemDialer({ resolver }) };
});

after(() => {
  resolver.close();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function meta(destination: Address, network: 'tcp' | 'udp' = 'tcp'): Metadata {
  return { id: 't', network, inbound: { type: 'SOCKS5', name: 'test', port: 0 }, source: { host: '127.0.0.1', port: 1 }, destination };
}

async function echoServer(host: string): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  return (server.address() as { port: number }).port;
}

const signal = () => new AbortController().signal;

test('DIRECT relays TCP to localhost on either family', async () => {
  const direct = createDirect('DIRECT', deps);
  assert.deepEqual([direct.name, direct.type, direct.udp], ['DIRECT', 'Direct', true]);
  for (const host of ['127.0.0.1', '::1']) {
    const port = await echoServer(host);
    const s = await direct.dialTcp(meta({ host: 'localhost', port }), { signal: signal() });
    s.write('hi');
    const got = await new Promise<Buffer>((r) => s.once('data', r));
    assert.equal(got.toString(), 'hi');
    s.destroy();
  }
  await direct.close();
});

test('ip-version ipv4 cannot reach an IPv6-only server', async () => {
  const port = await echoServer('::1');
  const d = createDirect('v4', deps, { ipVersion: 'ipv4' });
  await assert.rejects(d.dialTcp(meta({ host: 'localhost', port }), { signal: signal() }), (err: unknown) => hasCode(err, 'DIAL_FAILED'));
  const s = (await createDirect('v6', deps, { ipVersion: 'ipv6' }).dialTcp(meta({ host: 'localhost', port }), { signal: signal() })) as Socket;
  assert.equal(s.remoteAddress, '::1');
  s.destroy();
});

test('a dialer in the dial options (a chain hop) is used instead of the system one', async () => {
  const calls: string[] = [];
  const pc: PacketConn = { send() {}, onMessage() {}, onClose() {}, close() {} };
  const hop: Dialer = {
    async dialTcp(to) {
      calls.push(`tcp ${to.host}:${to.port}`);
      return new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    },
    async dialUdp() {
      calls.push('udp');
      return pc;
    },
  };
  const d = createDirect('DIRECT', deps);
  (await d.dialTcp(meta({ host: 'example.test', port: 443 }), { signal: signal(), dialer: hop })).destroy();
  assert.equal(await d.dialUdp(meta({ host: 'example.test', port: 53 }, 'udp'), { signal: signal(), dialer: hop }), pc);
  assert.deepEqual(calls, ['tcp example.test:443', 'udp']);
});

test('DIRECT relays UDP', async () => {
  const echo = createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  const dest = { host: '127.0.0.1', port: echo.address().port };
  const pc = await createDirect('DIRECT', deps).dialUdp(meta(dest, 'udp'), { signal: signal() });
  const got = new Promise<[string, Address]>((r) => pc.onMessage((d, from) => r([d.toString(), from])));
  pc.send(Buffer.from('u'), dest);
  assert.deepEqual(await got, ['u', dest]);
  pc.close();
  echo.close();
});

test('type: direct schema keeps unknown keys and normalises mihomo leniencies', () => {
  const o = directSchema.parse({ name: 7, type: 'direct', 'ip-version': 'ipv6', udp: true, 'routing-mark': '255', extra: { a: 1 } });
  assert.equal(o.name, '7');
  assert.equal(o['routing-mark'], 255);
  assert.deepEqual(o.extra, { a: 1 });
  assert.equal(directSchema.safeParse({ name: '', type: 'direct' }).success, false);
  assert.equal(directSchema.safeParse({ name: 'x', type: 'ss' }).success, false);
  assert.equal(directSchema.safeParse({ name: 'x', type: 'direct', 'routing-mark': 'abc' }).success, false);
  assert.equal(directSchema.safeParse({ type: 'direct' }).success, false);
});

test('definition: unknown ip-version falls back to dual with a warning; unsupported keys warn', () => {
  logLines.length = 0;
  const o = directSchema.parse({ name: 'd', type: 'direct', 'ip-version': 'ipv4_prefer', 'interface-name': 'eth0', 'routing-mark': 6667 });
  const out = directDefinition.create(o, deps);
  assert.deepEqual([out.name, out.type], ['d', 'Direct']);
  assert.equal(logLines.length, 3);
  assert.match(logLines[0], /level=warning.*unknown ip-version/);
  assert.match(logLines[1], /interface-name is not supported/);
  assert.match(logLines[2], /routing-mark is not supported/);
  logLines.length = 0;
  directDefinition.create(directSchema.parse({ name: 'e', type: 'direct', 'ip-version': 'ipv4-prefer' }), deps);
  assert.equal(logLines.length, 0);
});

test('schema survives random input', () => {
  const values = [null, 1, -1, 'x', '', true, [], {}, { a: [1] }, 'ipv4', 1e308, Number.NaN];
  for (let i = 0; i < 300; i++) {
    const pick = () => values[Math.floor(Math.random() * values.length)];
    const input = { name: pick(), type: Math.random() < 0.7 ? 'direct' : pick(), 'ip-version': pick(), 'interface-name': pick(), 'routing-mark': pick() };
    const r = directSchema.safeParse(input);
    if (r.success) assert.equal(typeof r.data.name, 'string');
  }
});
