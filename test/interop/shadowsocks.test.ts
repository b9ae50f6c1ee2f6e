// The Shadowsocks outbound against real servers nobody here wrote: ss-server
// (shadowsocks-libev: every AEAD-2017 method and the stream ciphers) and v2ray 4.34's
// shadowsocks inbound; SS-2022, multi-user and UDP-over-TCP against our own server (no Debian
// server speaks them); and our server proven by ss-local, the shadowsocks-libev client.
import type { Duplex } from 'node:stream';
import { createLogger } from '../../src/common/log.js';
import type { Address } from '../../src/core/address.js';
import type { Outbound, PacketConn } from '../../src/core/outbound.js';
import { createSystemResolver, type SystemResolver } from '../../src/dns/system-resolver.js';
import type { OutboundDeps } from '../../src/protocol/registry.js';
import { ssSchema } from '../../src/protocol/shadowsocks/options.js';
import { createShadowsocks } from '../../src/protocol/shadowsocks/outbound.js';
import { startSsServer, type SsServer } from '../support/ss-server.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { conformance, type ConformanceSetup } from '../conformance/suite.js';
import { socks5Connect, socks5UdpAssociate } from '../support/socks-client.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { V2RAY_TEST_POLICY } from '../support/v2ray.js';

const PASS = 'correct horse battery';

function makeDeps(): { deps: OutboundDeps; resolver: SystemResolver } {
  const resolver = createSystemResolver({ ipv6: true });
  return { resolver, deps: { resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) } };
}

function ss(deps: OutboundDeps, port: number, cipher: string, password: string, extra: Record<string, unknown> = {}): Outbound {
  return createShadowsocks(ssSchema.parse({ name: `ss-${cipher}`, type: 'ss', server: '127.0.0.1', port, cipher, password, udp: true, ...extra }), deps);
}

/** A base64 key of `n` bytes derived from `seed` (stable across runs, distinct per seed). */
function psk(n: number, seed: number): string {
  return Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i * 7) & 0xff)).toString('base64');
}

// ss-server (shadowsocks-libev): every AEAD-2017 method and a representative set of stream
// ciphers, TCP and UDP (-u).
for (const method of [
  'aes-128-gcm',
  'aes-192-gcm',
  'aes-256-gcm',
  'chacha20-ietf-poly1305',
  'xchacha20-ietf-poly1305',
  'aes-128-cfb',
  'aes-256-ctr',
  'chacha20-ietf',
  'chacha20',
]) {
  conformance(`ss ${method} → ss-server`, async (): Promise<ConformanceSetup> => {
    const { deps, resolver } = makeDeps();
    const port = await freePort();
    const peer = await startPeer({
      name: 'ss-server',
      command: 'ss-server',
      // -t 3: ss-server notices a client reset only while it reads from the client; when it
      // is blocked writing to the destination, its idle timeout is what frees the session
      args: ['-s', '127.0.0.1', '-p', String(port), '-k', PASS, '-m', method, '-u', '-t', '3'],
      readyPort: port,
    });
    return {
      outbound: ss(deps, port, method, PASS),
      udp: true,
      // shadowsocks-libev tears the whole session down on the first FIN from either side
      clientHalfClose: false,
      serverHalfClose: false,
      // ss-server stalls a client with a bad key (no close), so the suite waits out its bound:
      // checked on one AEAD and one stream method only, to keep the run short
      wrongCredentials: method === 'aes-256-gcm' || method === 'aes-128-cfb' ? ss(deps, port, method, 'wrong password') : undefined,
      // aes-128-cfb has no authentication: ss-server takes the noise for an address (seen once: it
      // reached something that answered with about 120 bytes)
      wrongCredentialsMayRelay: method === 'aes-128-cfb',
      killServer: () => peer.kill(),
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });
}

/** v2ray 4.34 with one shadowsocks inbound and a freedom outbound. */
async function startV2ray(method: string): Promise<{ peer: Peer; port: number }> {
  const port = await freePort();
  const dir = peerDir('v2ray-ss');
  const config = {
    log: { loglevel: 'warning' },
    inbounds: [{ listen: '127.0.0.1', port, protocol: 'shadowsocks', settings: { method, password: PASS, network: 'tcp,udp' } }],
    outbounds: [{ protocol: 'freedom', settings: {} }],
    policy: V2RAY_TEST_POLICY,
  };
  const file = writePeerFile(dir, 'config.json', JSON.stringify(config));
  return { peer: await startPeer({ name: 'v2ray', command: 'v2ray', args: ['-config', file], readyPort: port }), port };
}

// v2ray's names for the same methods: chacha20-poly1305 is the IETF variant
for (const [ours, theirs] of [
  ['aes-128-gcm', 'aes-128-gcm'],
  ['chacha20-ietf-poly1305', 'chacha20-poly1305'],
  ['none', 'none'],
] as const) {
  conformance(`ss ${ours} → v2ray`, async (): Promise<ConformanceSetup> => {
    const { deps, resolver } = makeDeps();
    const { peer, port } = await startV2ray(theirs);
    return {
      outbound: ss(deps, port, ours, PASS),
      udp: true,
      // v2ray closes both directions when the destination finishes (its downlink-only timer)
      serverHalfClose: false,
      // v2ray stalls a bad client too: one method checks it
      wrongCredentials: ours === 'aes-128-gcm' ? ss(deps, port, ours, 'wrong password') : undefined,
      killServer: () => peer.kill(),
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });
}

/** Our server on a free port; "killing" it drops every client connection at once. */
async function ownServer(deps: OutboundDeps, method: string, password: string, users?: { name: string; password: string }[]): Promise<SsServer> {
  return startSsServer({ method, password, users, dialer: deps.dialer, log: deps.log, handshakeTimeoutMs: 3000, udpIdleMs: 500 });
}

// SS-2022: no Debian server speaks it; our server, written from SIP022/SIP023, stands in.
const SS2022: [string, number][] = [
  ['2022-blake3-aes-128-gcm', 16],
  ['2022-blake3-aes-256-gcm', 32],
  ['2022-blake3-chacha20-poly1305', 32],
];
for (const [method, size] of SS2022) {
  conformance(`ss ${method} → our server`, async (): Promise<ConformanceSetup> => {
    const { deps, resolver } = makeDeps();
    const key = psk(size, 1);
    const server = await ownServer(deps, method, key);
    const port = server.address().port;
    return {
      outbound: ss(deps, port, method, key),
      udp: true,
      wrongCredentials: ss(deps, port, method, psk(size, 2)),
      killServer: () => server.close(),
      async teardown() {
        await server.close();
        resolver.close();
      },
    };
  });
}

conformance('ss 2022-blake3-aes-256-gcm multi-user (iPSK:uPSK) → our server', async (): Promise<ConformanceSetup> => {
  const { deps, resolver } = makeDeps();
  const ipsk = psk(32, 3);
  const server = await ownServer(deps, '2022-blake3-aes-256-gcm', ipsk, [
    { name: 'alice', password: psk(32, 4) },
    { name: 'bob', password: psk(32, 5) },
  ]);
  const port = server.address().port;
  return {
    outbound: ss(deps, port, '2022-blake3-aes-256-gcm', `${ipsk}:${psk(32, 5)}`),
    udp: true,
    wrongCredentials: ss(deps, port, '2022-blake3-aes-256-gcm', `${ipsk}:${psk(32, 6)}`),
    killServer: () => server.close(),
    async teardown() {
      await server.close();
      resolver.close();
    },
  };
});

for (const [method, key, version] of [
  ['2022-blake3-aes-128-gcm', psk(16, 7), 2],
  ['aes-256-gcm', PASS, 1],
] as const) {
  conformance(`ss ${method} udp-over-tcp v${version} → our server`, async (): Promise<ConformanceSetup> => {
    const { deps, resolver } = makeDeps();
    const server = await startSsServer({ method, password: key, udp: false, dialer: deps.dialer, log: deps.log });
    const port = server.address().port;
    return {
      outbound: ss(deps, port, method, key, { 'udp-over-tcp': true, 'udp-over-tcp-version': version }),
      udp: true,
      killServer: () => server.close(),
      async teardown() {
        await server.close();
        resolver.close();
      },
    };
  });
}

/**
 * An Outbound that goes through ss-local's SOCKS5 port: ss-local (the shadowsocks-libev
 * client) then speaks Shadowsocks to our server, so the server is checked by a client we did
 * not write.
 */
function viaSocks(socksPort: number): Outbound {
  return {
    name: 'ss-local',
    type: 'Socks5',
    udp: true,
    dialTcp: (meta): Promise<Duplex> => socks5Connect(socksPort, meta.destination.host, meta.destination.port),
    async dialUdp(): Promise<PacketConn> {
      const assoc = await socks5UdpAssociate(socksPort);
      let onMessage: ((d: Buffer, from: Address) => void) | undefined;
      let open = true;
      void (async () => {
        while (open) {
          try {
            const r = await assoc.receive(1000);
            onMessage?.(Buffer.from(r.data), { host: r.host, port: r.port });
          } catch {
            // no datagram within the second: poll again while open
          }
        }
      })();
      return {
        send: (d, to) => assoc.send(d, to.host, to.port),
        onMessage: (h) => void (onMessage = h),
        onClose: () => undefined,
        close: () => {
          open = false;
          assoc.close();
        },
      };
    },
    close: async () => undefined,
  };
}

for (const method of ['aes-128-gcm', 'chacha20-ietf-poly1305', 'xchacha20-ietf-poly1305', 'aes-256-cfb']) {
  conformance(`ss-local ${method} → our server`, async (): Promise<ConformanceSetup> => {
    const { deps, resolver } = makeDeps();
    const server = await ownServer(deps, method, PASS);
    const socksPort = await freePort();
    const args = ['-s', '127.0.0.1', '-p', String(server.address().port), '-b', '127.0.0.1', '-l', String(socksPort), '-k', PASS, '-m', method, '-u', '-t', '3'];
    const local = await startPeer({ name: 'ss-local', command: 'ss-local', args, readyPort: socksPort });
    return {
      outbound: viaSocks(socksPort),
      udp: true,
      // ss-local (shadowsocks-libev) ends the session on the first FIN from either side
      clientHalfClose: false,
      serverHalfClose: false,
      killServer: () => server.close(),
      async teardown() {
        await local.stop();
        await server.close();
        resolver.close();
      },
    };
  });
}

