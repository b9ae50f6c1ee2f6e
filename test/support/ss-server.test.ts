import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/common/log.js';
import type { Address } from '../../src/core/address.js';
import { createSystemResolver, type SystemResolver } from '../../src/dns/system-resolver.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { ssSchema } from '../../src/protocol/shadowsocks/options.js';
import { createShadowsocks } from '../../src/protocol/shadowsocks/outbound.js';
import { startSsServer, type SsServer } from './ss-server.js';

let resolver: SystemResolver;
let echo: net.Server;
let accepted = 0;
const lines: string[] = [];
const log = createLogger('debug', (l) => void lines.push(l));

before(async () => {
  resolver = createSystemResolver({ ipv6: true });
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    s.on('error', () => undefined).pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
});
after(() => {
  resolver.close();
  echo.close();
});

const dest = (): Address => ({ host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port });

/** Sends `wire` on a fresh connection; resolves with what came back once the server ends or closes. */
async function raw(server: SsServer, wire: Buffer): Promise<Buffer> {
  const s = net.connect({ ...server.address(), allowHalfOpen: true });
  s.on('error', () => undefined);
  await once(s, 'connect');
  const parts: Buffer[] = [];
  s.on('data', (b: Buffer) => parts.push(b));
  s.write(wire);
  await new Promise<void>((r) => {
    s.once('end', () => r());
    s.once('close', () => r());
  });
  s.destroy();
  return Buffer.concat(parts);
}

for (const [method, password] of [
  ['aes-128-gcm', 'pw'],
  ['2022-blake3-aes-128-gcm', Buffer.alloc(16, 5).toString('base64')],
] as const) {
  test(`${method}: a replayed request is refused; noise is drained, never relayed`, async () => {
    const dialer = createSystemDialer({ resolver });
    const server = await startSsServer({ method, password, dialer, log, udp: false, handshakeTimeoutMs: 2000 });
    try {
      // record what our client puts on the wire, through a tap in front of the server
      const captured: Buffer[] = [];
      const tap = net.createServer((c) => {
        const up = net.connect(server.address());
        up.on('error', () => c.destroy());
        c.on('error', () => up.destroy());
        c.on('data', (b: Buffer) => captured.push(b));
        c.pipe(up).pipe(c);
      });
      await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
      const o = createShadowsocks(
        ssSchema.parse({ name: 'p', type: 'ss', server: '127.0.0.1', port: (tap.address() as net.AddressInfo).port, cipher: method, password }),
        { resolver, log, dialer },
      );
      const c = await o.dialTcp({ id: '1', network: 'tcp', inbound: { type: 'SOCKS5', name: 't', port: 0 }, source: dest(), destination: dest() }, { signal: AbortSignal.timeout(3000) });
      const got = once(c, 'data');
      c.write('first');
      assert.equal(((await got)[0] as Buffer).toString(), 'first');
      c.destroy();
      tap.close();
      const before = accepted;
      lines.length = 0;
      // the same bytes again: the salt is known
      assert.equal((await raw(server, Buffer.concat(captured))).length, 0);
      assert.match(lines.join(''), /rejected: replayed salt/);
      // noise: refused without an answer; the server ends its side instead of resetting
      assert.equal((await raw(server, randomBytes(200))).length, 0);
      assert.equal(accepted, before, 'nothing reached a destination');
    } finally {
      await server.close();
    }
  });
}

test('server options are checked', async () => {
  const dialer = createSystemDialer({ resolver });
  await assert.rejects(startSsServer({ method: 'nope', password: 'x', dialer, log }), /unsupported cipher nope/);
  await assert.rejects(startSsServer({ method: '2022-blake3-aes-128-gcm', password: 'short', dialer, log }), /not base64|bytes/);
  const k = Buffer.alloc(32, 1).toString('base64');
  await assert.rejects(startSsServer({ method: '2022-blake3-chacha20-poly1305', password: k, users: [{ name: 'a', password: k }], dialer, log }), /no multi-user/);
});
