import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { testCerts } from '../../../test/support/certs.js';
import { createLogger } from '../../common/log.js';
import type { ConnectionHandler, Inbound } from '../../core/inbound.js';
import type { Metadata } from '../../core/metadata.js';
import type { Outbound } from '../../core/outbound.js';
import { createSystemResolver } from '../../dns/system-resolver.js';
import { createRegistry } from '../../protocol/index.js';
import { encodeTrojanRequest, trojanPasswordKey, TROJAN_CMD } from '../../protocol/trojan/codec/header.js';
import { encodeVlessRequest, VLESS_CMD } from '../../protocol/vless/codec/header.js';
import { uuidBytes } from '../../protocol/vless/codec/uuid.js';
import { createSystemDialer } from '../../transport/system-dialer.js';
import { startServerInbound, type ServerInboundOptions } from './start.js';

const ID = randomUUID();
const PW = 'secret';
const dest = { host: '127.0.0.1', port: 9 };
const fds = (): number => readdirSync('/proc/self/fd').length;

/** A tunnel stand-in: records each connection and echoes it. */
function echoTunnel(calls: Metadata[]): ConnectionHandler {
  return {
    handleTcp(conn, meta, reply) {
      calls.push(meta);
      conn.on('error', () => {});
      reply?.connected();
      conn.on('data', (d: Buffer) => conn.write(d));
      conn.on('end', () => conn.end());
    },
    handleUdp() {},
  };
}

/** Resolves when `s` closes; rejects after `ms`. */
function closedWithin(s: net.Socket, ms: number): Promise<void> {
  if (s.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** A raw client (TLS when asked) that sends `bytes` and waits for the server to close. */
async function sendAndExpectClose(port: number, useTls: boolean, bytes: Buffer): Promise<void> {
  const s: net.Socket = useTls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  s.on('data', () => {});
  await once(s, useTls ? 'secureConnect' : 'connect');
  s.write(bytes);
  try {
    await closedWithin(s, 3000);
  } finally {
    s.destroy();
  }
}

/** A TCP tap in front of `upstream` that records what clients send. */
async function tap(upstream: number): Promise<{ port: number; sent: Buffer[]; close(): void }> {
  const sent: Buffer[] = [];
  const socks = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    const u = net.connect({ port: upstream, host: '127.0.0.1', allowHalfOpen: true });
    for (const x of [c, u]) {
      socks.add(x);
      x.on('error', () => (c.destroy(), u.destroy()));
    }
    c.on('data', (d: Buffer) => sent.push(Buffer.from(d)));
    c.pipe(u);
    u.pipe(c);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, sent, close: () => (server.close(), socks.forEach((s) => s.destroy())) };
}

/** Echo round trip through an outbound. */
async function roundTrip(ob: Outbound, data: Buffer): Promise<Buffer> {
  const meta: Metadata = { id: randomUUID(), network: 'tcp', inbound: { type: 'INNER', name: 't', port: 0 }, source: { host: '127.0.0.1', port: 1 }, destination: dest };
  const c = await ob.dialTcp(meta, { signal: AbortSignal.timeout(5000) });
  c.on('error', () => {});
  const parts: Buffer[] = [];
  c.on('data', (b: Buffer) => parts.push(b));
  c.end(data);
  await once(c, 'end');
  c.destroy();
  return Buffer.concat(parts);
}

describe('server listeners: bad input, replays, descriptors', () => {
  const certs = testCerts();
  const calls: Metadata[] = [];
  const log = createLogger('silent');
  const started = new Map<string, Inbound>();
  const resolver = createSystemResolver({ ipv6: false });
  const deps = { resolver, log, dialer: createSystemDialer({ resolver }) };
  const registry = createRegistry();
  const outbound = (raw: Record<string, unknown>): Outbound => {
    const def = registry.get(String(raw.type))!;
    return def.create(def.schema.parse({ name: 'o', server: '127.0.0.1', ...raw }), deps);
  };
  let baseline = 0;

  before(async () => {
    baseline = fds();
    const common = { listen: '127.0.0.1', port: 0, handler: echoTunnel(calls), log, handshakeTimeoutMs: 300 };
    const tlsPem = { certificate: certs.certPem, privateKey: certs.keyPem };
    const list: ServerInboundOptions[] = [
      { ...common, name: 'vless', type: 'vless', users: [{ name: 'a', secret: ID }], ...tlsPem },
      { ...common, name: 'vless-ws', type: 'vless', users: [{ name: 'a', secret: ID }], wsPath: '/ws' },
      { ...common, name: 'trojan', type: 'trojan', users: [{ name: 'a', secret: PW }], ...tlsPem },
      { ...common, name: 'trojan-grpc', type: 'trojan', users: [{ name: 'a', secret: PW }], grpcServiceName: 'gun' },
      { ...common, name: 'vmess', type: 'vmess', users: [{ name: 'a', secret: ID }] },
      { ...common, name: 'ss', type: 'shadowsocks', users: [], cipher: 'aes-128-gcm', password: PW },
    ];
    for (const o of list) started.set(o.name, await startServerInbound(o));
  });

  after(async () => {
    for (const i of started.values()) await i.close();
    resolver.close();
  });

  const port = (name: string): number => started.get(name)!.address().port;

  const vlessHead = (id: string) => encodeVlessRequest(uuidBytes(id), VLESS_CMD.TCP, dest);
  const trojanHead = (pw: string) => encodeTrojanRequest(trojanPasswordKey(pw), TROJAN_CMD.CONNECT, dest);
  const cases: [string, boolean, Buffer, Buffer][] = [
    // name, tls, truncated header, wrong credentials
    ['vless', true, vlessHead(ID).subarray(0, 12), vlessHead(randomUUID())],
    ['trojan', true, trojanHead(PW).subarray(0, 40), trojanHead('wrong')],
    ['vmess', false, randomBytes(10), randomBytes(80)],
    ['ss', false, randomBytes(20), randomBytes(90)],
  ];
  for (const [name, useTls, truncated, wrong] of cases) {
    it(`${name}: random bytes, a truncated header and wrong credentials are closed, never routed`, async () => {
      const before = calls.length;
      await sendAndExpectClose(port(name), useTls, randomBytes(300));
      await sendAndExpectClose(port(name), useTls, truncated);
      await sendAndExpectClose(port(name), useTls, wrong);
      await sendAndExpectClose(port(name), useTls, Buffer.alloc(0));
      assert.equal(calls.length, before);
    });
  }

  it('ws: a wrong path gets 404, a non-upgrade GET gets 400', async () => {
    for (const [req, status] of [
      ['GET /other HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n', '404'],
      ['GET /ws HTTP/1.1\r\nHost: x\r\n\r\n', '400'],
    ]) {
      const s = net.connect(port('vless-ws'), '127.0.0.1');
      s.on('error', () => {});
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.write(req);
      await closedWithin(s, 3000);
      assert.match(got, new RegExp(`^HTTP/1.1 ${status}`));
    }
  });

  it('grpc: a broken HTTP/2 preface or garbage frames are closed; plain clients still served', async () => {
    const before = calls.length;
    await sendAndExpectClose(port('trojan-grpc'), false, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(200)]));
    await sendAndExpectClose(port('trojan-grpc'), false, Buffer.from('PRI * HTTP/1.1\r\n\r\n'));
    await sendAndExpectClose(port('trojan-grpc'), false, trojanHead('wrong'));
    assert.equal(calls.length, before);
    const plain = net.connect(port('trojan-grpc'), '127.0.0.1');
    plain.on('error', () => {});
    await once(plain, 'connect');
    plain.write(Buffer.concat([trojanHead(PW), Buffer.from('hi')]));
    const [echoed] = (await once(plain, 'data')) as [Buffer];
    assert.equal(echoed.toString(), 'hi');
    plain.destroy();
  });

  it('our outbounds get through (tls, ws, vmess, ss)', async () => {
    const data = randomBytes(100_000);
    const obs = [
      outbound({ type: 'vless', port: port('vless'), uuid: ID, tls: true, servername: 'localhost', fingerprint: certs.fingerprint }),
      outbound({ type: 'vless', port: port('vless-ws'), uuid: ID, network: 'ws', 'ws-opts': { path: '/ws' } }),
      outbound({ type: 'trojan', port: port('trojan'), password: PW, sni: 'localhost', fingerprint: certs.fingerprint }),
      outbound({ type: 'vmess', port: port('vmess'), uuid: ID, alterId: 0, cipher: 'aes-128-gcm' }),
      outbound({ type: 'ss', port: port('ss'), cipher: 'aes-128-gcm', password: PW }),
    ];
    for (const ob of obs) {
      assert.ok((await roundTrip(ob, data)).equals(data), ob.type);
      await ob.close();
    }
    assert.deepEqual(calls.at(-1)?.inbound, { type: 'SHADOWSOCKS', name: 'ss', port: port('ss') });
    assert.equal(calls.at(-2)?.inbound.user, 'a');
  });

  for (const [name, raw] of [
    ['ss', { type: 'ss', cipher: 'aes-128-gcm', password: PW }],
    ['vmess', { type: 'vmess', uuid: ID, alterId: 0, cipher: 'aes-128-gcm' }],
  ] as const) {
    it(`${name}: a replayed request (same salt / auth ID) is refused`, async () => {
      const t = await tap(port(name));
      try {
        const ob = outbound({ ...raw, port: t.port });
        assert.equal((await roundTrip(ob, Buffer.from('first'))).toString(), 'first');
        await ob.close();
        const before = calls.length;
        await sendAndExpectClose(port(name), false, Buffer.concat(t.sent));
        assert.equal(calls.length, before, 'the replay reached the tunnel');
      } finally {
        t.close();
      }
    });
  }

  it('leaves no descriptor open', async () => {
    const until = Date.now() + 5000;
    // the listeners and the resolver's own descriptors are still open: compare with them counted
    const expected = baseline + started.size;
    while (fds() > expected && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.ok(fds() <= expected, `descriptors: ${fds()} > ${expected}`);
  });
});
