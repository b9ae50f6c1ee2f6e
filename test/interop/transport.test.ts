// Every transport layer runs the outbound conformance suite: a test-only Outbound opens the
// layers (via buildTransport, as protocols do) to a server that relays to a header relay, which
// reaches the suite's destinations.
import { createLogger } from '../../src/common/log.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import { buildTransport, type TransportConfig } from '../../src/transport/build.js';
import { buildPlugin } from '../../src/transport/plugin/index.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import tls from 'node:tls';
import { conformance } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { peerDir, startPeer, writePeerFile, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';
import { headerOutbound, relay, startH2Server, startHeaderRelay, startHttpObfsServer, startWsServer, type Running } from '../support/transport-servers.js';
import { V2RAY_TEST_POLICY } from '../support/v2ray.js';

const log = createLogger('silent');

/** Runs the suite through `cfg` against the server `start` brings up in front of a header relay. */
function suite(
  name: string,
  cfg: TransportConfig | undefined,
  start: (relayPort: number) => Promise<Running>,
  o: { plugin?: Record<string, unknown> } = {},
): void {
  conformance(name, async () => {
    const relay = await startHeaderRelay();
    const server = await start(relay.port);
    const resolver = createSystemResolver({ ipv6: true });
    const dialer = createSystemDialer({ resolver });
    const ctx = { server: '127.0.0.1', port: server.port, proxyName: name, log, ca: testCerts().caPem, grpcIdleMs: 300 };
    const t = buildTransport(cfg ?? {}, ctx);
    const plugin = o.plugin ? buildPlugin('v2ray-plugin', o.plugin, ctx) : undefined;
    const open = plugin
      ? async (signal: AbortSignal) => plugin.wrap(await dialer.dialTcp({ host: '127.0.0.1', port: server.port }, signal), signal)
      : (signal: AbortSignal) => t.connect(dialer, signal);
    return {
      outbound: headerOutbound(name, open),
      udp: false,
      async teardown() {
        await t.close();
        await server.close();
        await relay.close();
        resolver.close();
      },
    };
  });
}

const certs = () => ({ cert: testCerts().certPem, key: testCerts().keyPem });

/** A TLS terminator in front of `inner` (for layers whose test server speaks cleartext). */
async function startTlsFront(inner: Promise<Running>): Promise<Running> {
  const back = await inner;
  const server = tls.createServer({ ...certs(), allowHalfOpen: true }, (s) => {
    const up = net.connect({ port: back.port, host: '127.0.0.1', allowHalfOpen: true });
    relay(s, up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      await back.close();
      server.close();
    },
  };
}

suite('ws', { network: 'ws', 'ws-opts': { path: '/tunnel' } }, (target) => startWsServer({ target }));
suite('ws + tls', { network: 'ws', tls: true, servername: 'localhost', 'ws-opts': { path: '/t' } }, (target) =>
  startWsServer({ target, tls: certs() }),
);
suite(
  'ws with early data in Sec-WebSocket-Protocol (?ed=2048)',
  { network: 'ws', 'ws-opts': { path: '/ed?ed=2048' } },
  (target) => startWsServer({ target, earlyDataHeader: 'Sec-WebSocket-Protocol' }),
);
suite(
  'ws with early data in a named header',
  { network: 'ws', 'ws-opts': { path: '/', 'max-early-data': 16, 'early-data-header-name': 'X-Early' } },
  (target) => startWsServer({ target, earlyDataHeader: 'X-Early' }),
);
suite('httpupgrade', { network: 'ws', 'ws-opts': { path: '/up', 'v2ray-http-upgrade': true } }, (target) =>
  startWsServer({ target, upgradeOnly: true }),
);
suite('h2 (over tls)', { network: 'h2', servername: 'localhost', 'h2-opts': { host: ['a.example', 'b.example'], path: '/h2' } }, (target) =>
  startH2Server({ target, mode: 'h2', tls: certs() }),
);
suite('grpc (gun) over tls', { network: 'grpc', tls: true, servername: 'localhost', 'grpc-opts': { 'grpc-service-name': 'svc' } }, (target) =>
  startH2Server({ target, mode: 'grpc', tls: certs() }),
);
suite('grpc (gun) cleartext h2c', { network: 'grpc', 'grpc-opts': { 'grpc-service-name': 'svc' } }, (target) =>
  startH2Server({ target, mode: 'grpc' }),
);
suite(
  'http (http-opts obfuscation)',
  { network: 'http', 'http-opts': { method: 'GET', path: ['/a', '/b'], headers: { Host: ['cdn.example'], 'User-Agent': ['x'] } } },
  (target) => startHttpObfsServer({ target }),
);
suite('http + tls', { network: 'http', tls: true, servername: 'localhost' }, (target) => startTlsFront(startHttpObfsServer({ target })));
suite(
  'httpupgrade fast open + tls',
  { network: 'ws', tls: true, servername: 'localhost', 'ws-opts': { 'v2ray-http-upgrade': true, 'v2ray-http-upgrade-fast-open': true } },
  // node:https hands pipelined bytes sent before its 'upgrade' event to nobody: terminate TLS in front
  (target) => startTlsFront(startWsServer({ target, upgradeOnly: true })),
);
suite('httpupgrade fast open', { network: 'ws', 'ws-opts': { 'v2ray-http-upgrade': true, 'v2ray-http-upgrade-fast-open': true } }, (target) =>
  startWsServer({ target, upgradeOnly: true }),
);

// ---- Shadowsocks plugins against the real servers, in front of the header relay ----

// started before any suite counts descriptors (a peer's two stdio pipes use the allowance)
const relayOnce = startHeaderRelay();
const sharedRelay = (): Promise<Running> => relayOnce;
after(async () => (await relayOnce).close());

/** Runs the suite through the plugin layer against a peer started by `start`. */
function pluginSuite(
  name: string,
  plugin: string,
  opts: Record<string, unknown>,
  start: (relayPort: number) => Promise<{ port: number; peer: Peer }>,
): void {
  conformance(name, async () => {
    const relay = await sharedRelay();
    const { port, peer } = await start(relay.port);
    const resolver = createSystemResolver({ ipv6: true });
    const dialer = createSystemDialer({ resolver });
    const layer = buildPlugin(plugin, opts, { server: '127.0.0.1', port, proxyName: name, log, ca: testCerts().caPem });
    return {
      // these peers close both directions on a FIN (libev, v2ray): the client's EOF goes in-band
      outbound: headerOutbound(name, async (signal) => layer.wrap(await dialer.dialTcp({ host: '127.0.0.1', port }, signal), signal), true),
      udp: false,
      serverHalfClose: false,
      killServer: () => peer.kill(),
      async teardown() {
        await peer.stop();
        resolver.close();
      },
    };
  });
}

async function obfsServer(mode: 'http' | 'tls', relayPort: number): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  const peer = await startPeer({
    name: `obfs-server ${mode}`,
    command: 'obfs-server',
    args: ['-s', '127.0.0.1', '-p', String(port), '--obfs', mode, '-r', `127.0.0.1:${relayPort}`],
    readyPort: port,
  });
  return { port, peer };
}

async function v2rayPluginServer(relayPort: number, extra: string): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  const peer = await startPeer({
    name: 'ss-v2ray-plugin',
    command: 'ss-v2ray-plugin',
    args: ['-loglevel', 'none'],
    env: {
      ...process.env,
      SS_REMOTE_HOST: '127.0.0.1',
      SS_REMOTE_PORT: String(port),
      SS_LOCAL_HOST: '127.0.0.1',
      SS_LOCAL_PORT: String(relayPort),
      SS_PLUGIN_OPTIONS: `server;${extra}`,
    },
    readyPort: port,
  });
  return { port, peer };
}

// ---- v2ray 4.34 as the transport's server: a dokodemo-door inbound (fixed target: the header
// relay) with the stream settings under test. v2ray ends the whole session on a FIN, so these
// runs also carry end-of-stream in-band.

function v2raySuite(name: string, cfg: TransportConfig, streamSettings: (c: ReturnType<typeof testCerts>) => unknown): void {
  conformance(name, async () => {
    const relay = await sharedRelay();
    const port = await freePort();
    const dir = peerDir('v2ray-transport');
    const config = {
      log: { loglevel: 'none' },
      inbounds: [
        {
          listen: '127.0.0.1',
          port,
          protocol: 'dokodemo-door',
          settings: { address: '127.0.0.1', port: relay.port, network: 'tcp' },
          streamSettings: streamSettings(testCerts()),
        },
      ],
      outbounds: [{ protocol: 'freedom', settings: {} }],
      policy: V2RAY_TEST_POLICY,
    };
    const file = writePeerFile(dir, 'config.json', JSON.stringify(config));
    const peer = await startPeer({ name: 'v2ray', command: 'v2ray', args: ['-config', file], readyPort: port });
    const resolver = createSystemResolver({ ipv6: true });
    const dialer = createSystemDialer({ resolver });
    const t = buildTransport(cfg, { server: '127.0.0.1', port, proxyName: name, log, ca: testCerts().caPem });
    return {
      outbound: headerOutbound(name, (signal) => t.connect(dialer, signal), true),
      udp: false,
      serverHalfClose: false,
      killServer: () => peer.kill(),
      async teardown() {
        await t.close();
        await peer.stop();
        resolver.close();
      },
    };
  });
}

const v2tls = (c: ReturnType<typeof testCerts>) => ({ certificates: [{ certificateFile: c.certFile, keyFile: c.keyFile }] });

v2raySuite('ws → v2ray', { network: 'ws', 'ws-opts': { path: '/v' } }, () => ({ network: 'ws', wsSettings: { path: '/v' } }));
// (v2ray 4.34's server has no early data: it ignores the header and 404s the path form)
v2raySuite('ws + tls → v2ray', { network: 'ws', tls: true, servername: 'localhost', 'ws-opts': { path: '/v' } }, (c) => ({
  network: 'ws',
  security: 'tls',
  tlsSettings: v2tls(c),
  wsSettings: { path: '/v' },
}));
v2raySuite('h2 + tls → v2ray', { network: 'h2', servername: 'localhost', 'h2-opts': { host: ['localhost'], path: '/h2' } }, (c) => ({
  network: 'http',
  security: 'tls',
  tlsSettings: v2tls(c),
  httpSettings: { host: ['localhost'], path: '/h2' },
}));
v2raySuite(
  'http (header obfuscation) → v2ray',
  { network: 'http', 'http-opts': { method: 'GET', path: ['/'], headers: { Host: ['www.example.com'] } } },
  () => ({ network: 'tcp', tcpSettings: { header: { type: 'http', request: { path: ['/'] }, response: {} } } }),
);

pluginSuite('obfs http (obfs-server)', 'obfs', { mode: 'http', host: 'example.org' }, (r) => obfsServer('http', r));
pluginSuite('obfs tls (obfs-server)', 'obfs', { mode: 'tls', host: 'example.org' }, (r) => obfsServer('tls', r));
pluginSuite('v2ray-plugin websocket, mux (ss-v2ray-plugin)', 'v2ray-plugin', { mode: 'websocket', path: '/v2', host: 'example.org' }, (r) =>
  v2rayPluginServer(r, 'path=/v2;host=example.org'),
);
// ss-v2ray-plugin's server only speaks Mux.Cool (it reads raw bytes as mux frames and fails), so
// mux: false is for plain WebSocket servers: ours, with the header relay behind it
suite('v2ray-plugin websocket, mux: false (a plain ws server)', undefined, (target) => startWsServer({ target }), {
  plugin: { mode: 'websocket', path: '/plain', host: 'example.org', mux: false },
});
pluginSuite(
  'v2ray-plugin websocket + tls, mux (ss-v2ray-plugin)',
  'v2ray-plugin',
  { mode: 'websocket', path: '/v2', host: 'localhost', tls: true },
  (r) => v2rayPluginServer(r, `path=/v2;host=localhost;tls;cert=${testCerts().certFile};key=${testCerts().keyFile}`),
);
