// Our Shadowsocks outbound with its SIP003 plugins against the real plugin servers in front of
// a real ss-server: obfs-server (simple-obfs, http and tls modes) and ss-v2ray-plugin
// (websocket, with and without TLS). Each plugin server is started on its own (not by ss-server's
// --plugin) so that the test owns its PID: the "server killed" case kills the plugin front.
import { createLogger } from '../../src/common/log.js';
import { createSystemResolver } from '../../src/dns/system-resolver.js';
import type { OutboundDeps } from '../../src/protocol/registry.js';
import { ssSchema, type SsOptions } from '../../src/protocol/shadowsocks/options.js';
import { createShadowsocks } from '../../src/protocol/shadowsocks/outbound.js';
import { buildPlugin } from '../../src/transport/plugin/index.js';
import { createSystemDialer } from '../../src/transport/system-dialer.js';
import { conformance, type ConformanceSetup } from '../conformance/suite.js';
import { testCerts } from '../support/certs.js';
import { startPeer, type Peer } from '../support/peer.js';
import { freePort } from '../support/ports.js';

const PASS = 'plugin test password';
const METHOD = 'chacha20-ietf-poly1305';

/** ss-server on a free port; the plugin front relays to it. */
async function ssServer(): Promise<{ peer: Peer; port: number }> {
  const port = await freePort();
  const peer = await startPeer({
    name: 'ss-server',
    command: 'ss-server',
    args: ['-s', '127.0.0.1', '-p', String(port), '-k', PASS, '-m', METHOD, '-t', '3'],
    readyPort: port,
  });
  return { peer, port };
}

/** The plugin server in front of ss-server: its PID is ours. */
type Front = (ssPort: number) => Promise<{ peer: Peer; port: number }>;

const obfsFront =
  (mode: 'http' | 'tls'): Front =>
  async (ssPort) => {
    const port = await freePort();
    const args = ['-s', '127.0.0.1', '-p', String(port), '--obfs', mode, '-r', `127.0.0.1:${ssPort}`];
    return { port, peer: await startPeer({ name: `obfs-server ${mode}`, command: 'obfs-server', args, readyPort: port }) };
  };

const v2rayFront =
  (opts: string): Front =>
  async (ssPort) => {
    const port = await freePort();
    const env = {
      ...process.env,
      SS_REMOTE_HOST: '127.0.0.1',
      SS_REMOTE_PORT: String(port),
      SS_LOCAL_HOST: '127.0.0.1',
      SS_LOCAL_PORT: String(ssPort),
      SS_PLUGIN_OPTIONS: `server;${opts}`,
    };
    return { port, peer: await startPeer({ name: 'ss-v2ray-plugin', command: 'ss-v2ray-plugin', args: ['-loglevel', 'none'], env, readyPort: port }) };
  };

function pluginCase(name: string, plugin: string, pluginOpts: Record<string, unknown>, front: Front): void {
  conformance(`ss + ${name}`, async (): Promise<ConformanceSetup> => {
    const resolver = createSystemResolver({ ipv6: true });
    const deps: OutboundDeps = { resolver, log: createLogger('silent'), dialer: createSystemDialer({ resolver }) };
    const ss = await ssServer();
    const f = await front(ss.port);
    const make = (password: string) => {
      const o: SsOptions = ssSchema.parse({
        name: `ss-${name}`, type: 'ss', server: '127.0.0.1', port: f.port, cipher: METHOD, password, plugin, 'plugin-opts': pluginOpts,
      });
      // the plugin call site of the outbound, fed with this folder's layers
      return createShadowsocks(o, deps, {
        plugin: (x, d) =>
          x.plugin
            ? buildPlugin(x.plugin, x['plugin-opts'] ?? {}, { server: x.server, port: x.port, log: d.log, proxyName: x.name, ca: testCerts().caPem })
            : undefined,
      });
    };
    return {
      outbound: make(PASS),
      udp: false,
      // shadowsocks-libev (and simple-obfs, and v2ray's pipes) end the whole session on a FIN
      clientHalfClose: false,
      serverHalfClose: false,
      killServer: () => f.peer.kill(),
      async teardown() {
        await f.peer.stop();
        await ss.peer.stop();
        resolver.close();
      },
    };
  });
}

pluginCase('obfs http', 'obfs', { mode: 'http', host: 'example.org' }, obfsFront('http'));
pluginCase('obfs tls', 'obfs', { mode: 'tls', host: 'example.org' }, obfsFront('tls'));
pluginCase('v2ray-plugin websocket', 'v2ray-plugin', { mode: 'websocket', host: 'example.org', path: '/ss' }, v2rayFront('host=example.org;path=/ss'));
pluginCase(
  'v2ray-plugin websocket + tls',
  'v2ray-plugin',
  { mode: 'websocket', host: 'localhost', path: '/ss', tls: true },
  v2rayFront(`host=localhost;path=/ss;tls;cert=${testCerts().certFile};key=${testCerts().keyFile}`),
);
