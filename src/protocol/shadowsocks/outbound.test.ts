import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import { duplexPair } from '../../common/duplex-pair.js';
import { createLogger } from '../../common/log.js';
import type { Address } from '../../core/address.js';
import { hasCode } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import type { Dialer } from '../../core/outbound.js';
import { createSystemResolver, type SystemResolver } from '../../dns/system-resolver.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import type { OutboundDeps } from '../registry.js';
import { keystreamAvailable } from '../../runtime/aead.js';
import { ssSchema } from './options.js';
import { createShadowsocks, shadowsocksDefinition } from './outbound.js';
import { startSsServer, type SsServer } from '../../../test/support/ss-server.js';

let resolver: SystemResolver;
let deps: OutboundDeps;
const lines: string[] = [];

before(() => {
  resolver = createSystemResolver({ ipv6: true });
  deps = { resolver, log: createLogger('debug', (l) => void lines.push(l)), dialer: createSystemDialer({ resolver }) };
});
after(() => resolver.close());

const meta = (destination: Address, network: 'tcp' | 'udp' = 'tcp'): Metadata => ({
  id: 'x',
  network,
  inbound: { type: 'SOCKS5', name: 't', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  destination,
});
const base = { name: 'p', type: 'ss', server: '127.0.0.1', port: 8388 };
const issues = (o: Record<string, unknown>): string[] => {
  const r = ssSchema.safeParse(o);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('schema: mihomo mappings load; what cannot work is refused naming the proxy', () => {
  const o = ssSchema.parse({ ...base, port: '8388', cipher: 'aes-256-gcm', password: 1234, udp: 'true', 'udp-over-tcp-version': 2, extra: 1 });
  assert.deepEqual([o.port, o.password, o.udp, o.extra], [8388, '1234', true, 1]);
  assert.deepEqual(issues({ ...base, cipher: 'none' }), []);
  assert.deepEqual(issues({ ...base, cipher: 'bogus-cipher', password: 'x' }), ['cipher: unsupported cipher bogus-cipher (proxy "p")']);
  if (!keystreamAvailable('rc4')) {
    assert.match(issues({ ...base, cipher: 'rc4-md5', password: 'x' })[0], /^cipher: unsupported cipher rc4-md5: this runtime's crypto has no rc4 \(proxy "p"\)/);
  }
  assert.match(issues({ ...base, cipher: '2022-blake3-aes-128-gcm', password: Buffer.alloc(32).toString('base64') })[0], /password: key 1 .* 32 bytes, the cipher needs 16/);
  const k = Buffer.alloc(32, 1).toString('base64');
  assert.match(issues({ ...base, cipher: '2022-blake3-chacha20-poly1305', password: `${k}:${k}` })[0], /no multi-user/);
  assert.deepEqual(issues({ ...base, cipher: '2022-blake3-aes-256-gcm', password: `${k}:${k}` }), []);
  assert.match(issues({ ...base, cipher: 'aes-128-gcm', password: '' })[0], /missing password/);
  assert.match(issues({ ...base, cipher: 'aes-128-gcm', password: 'x', plugin: 'shadow-tls' })[0], /^plugin: proxy "p": plugin shadow-tls not supported/);
  assert.match(issues({ ...base, cipher: 'aes-128-gcm', password: 'x', plugin: 'kcptun' })[0], /^plugin: proxy "p": unknown plugin/);
  assert.match(issues({ ...base, cipher: 'aes-128-gcm', password: 'x', plugin: 'obfs', 'plugin-opts': { mode: 'quic' } })[0], /^plugin-opts: proxy "p": obfs mode "quic"/);
  assert.deepEqual(issues({ ...base, cipher: 'aes-128-gcm', password: 'x', plugin: 'v2ray-plugin', 'plugin-opts': { mode: 'websocket', tls: 'true' } }), []);
  assert.match(issues({ ...base, cipher: 'aes-128-gcm', password: 'x', 'udp-over-tcp-version': 3 })[0], /unknown udp over tcp protocol version: 3/);
  assert.ok(issues({ ...base, port: 0, cipher: 'none' }).length > 0);
});

test('schema survives random input', () => {
  const values = [null, 1, -1, 'x', '', true, [], {}, 'aes-128-gcm', '2022-blake3-aes-128-gcm', 'AAAA', 1e308];
  const pick = () => values[Math.floor(Math.random() * values.length)];
  for (let i = 0; i < 500; i++) {
    const r = ssSchema.safeParse({ name: pick(), type: 'ss', server: pick(), port: pick(), cipher: pick(), password: pick(), plugin: pick(), 'plugin-opts': pick(), 'udp-over-tcp-version': pick() });
    if (r.success) assert.equal(typeof r.data.cipher, 'string');
  }
});

test('definition: keys that cannot be honoured are warned about', () => {
  lines.length = 0;
  const o = shadowsocksDefinition.create(ssSchema.parse({ ...base, cipher: 'none', tfo: true, smux: { enabled: true }, 'ip-version': 'bogus' }), deps);
  assert.deepEqual([o.type, o.udp], ['Shadowsocks', false]);
  assert.equal(lines.length, 3);
  assert.match(lines.join(''), /tfo is not supported/);
  assert.match(lines.join(''), /smux is not supported/);
  assert.match(lines.join(''), /unknown ip-version/);
});

test('dial failures name the server; udp off refuses UDP', async () => {
  const port = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  const o = createShadowsocks(ssSchema.parse({ ...base, port, cipher: 'aes-128-gcm', password: 'x' }), deps);
  await assert.rejects(o.dialTcp(meta({ host: '1.2.3.4', port: 80 }), { signal: AbortSignal.timeout(3000) }), (e: unknown) => {
    return hasCode(e, 'DIAL_FAILED') && /127\.0\.0\.1:\d+ connect error/.test((e as Error).message);
  });
  await assert.rejects(o.dialUdp(meta({ host: '1.2.3.4', port: 53 }, 'udp'), { signal: AbortSignal.timeout(3000) }), (e: unknown) => hasCode(e, 'UNSUPPORTED'));
});

test('the plugin layer wraps the server stream below the cipher; a chain hop dialer is used', async () => {
  const [ours, theirs] = duplexPair();
  const dialed: string[] = [];
  const hop: Dialer = {
    async dialTcp(to) {
      dialed.push(`${to.host}:${to.port}`);
      return ours;
    },
    dialUdp: () => Promise.reject(new Error('no udp')),
  };
  let wrapped: Duplex | undefined;
  const o = createShadowsocks(ssSchema.parse({ ...base, cipher: 'aes-128-gcm', password: 'x', plugin: 'obfs', 'plugin-opts': { mode: 'http' } }), deps, {
    plugin: (opts) => ({
      async wrap(inner) {
        assert.equal(opts.plugin, 'obfs');
        wrapped = inner;
        return inner;
      },
    }),
  });
  const c = await o.dialTcp(meta({ host: 'example.com', port: 80 }), { signal: AbortSignal.timeout(3000), dialer: hop });
  assert.equal(wrapped, ours);
  assert.deepEqual(dialed, ['127.0.0.1:8388']);
  const got = once(theirs, 'data');
  c.write('hello');
  const [wire] = (await got) as [Buffer];
  assert.equal(wire.length, 16 + 18 + 15 + 5 + 16, 'salt + one chunk with the address and the payload');
  c.destroy();
});

test('our client through our server: domain destinations over TCP and UDP', async () => {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => undefined).pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const udpEcho = createSocket('udp4');
  udpEcho.on('message', (m, r) => udpEcho.send(m, r.port, r.address));
  await new Promise<void>((r) => udpEcho.bind(0, '127.0.0.1', r));
  const server: SsServer = await startSsServer({ method: '2022-blake3-aes-128-gcm', password: Buffer.alloc(16, 9).toString('base64'), dialer: deps.dialer, log: createLogger('silent') });
  try {
    const o = createShadowsocks(
      ssSchema.parse({ ...base, port: server.address().port, cipher: '2022-blake3-aes-128-gcm', password: Buffer.alloc(16, 9).toString('base64'), udp: true }),
      deps,
    );
    const c = await o.dialTcp(meta({ host: 'localhost', port: (echo.address() as net.AddressInfo).port }), { signal: AbortSignal.timeout(3000) });
    const data = randomBytes(100_000);
    const parts: Buffer[] = [];
    c.on('data', (b: Buffer) => parts.push(b));
    c.end(data);
    await once(c, 'end');
    assert.deepEqual(Buffer.concat(parts), data);
    const pc = await o.dialUdp(meta({ host: 'localhost', port: udpEcho.address().port }, 'udp'), { signal: AbortSignal.timeout(3000) });
    const reply = new Promise<[string, Address]>((r) => pc.onMessage((d, from) => r([d.toString(), from])));
    pc.send(Buffer.from('dgram'), { host: 'localhost', port: udpEcho.address().port });
    assert.deepEqual(await reply, ['dgram', { host: '127.0.0.1', port: udpEcho.address().port }]);
    pc.close();
  } finally {
    await server.close();
    echo.close();
    udpEcho.close();
  }
});
