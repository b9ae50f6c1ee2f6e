/**
 * The bench's rows. A row is one table entry: what the load generator speaks to the local
 * client, the remote server it needs (if any), and how each local client reaches that server:
 * clash-ts (a `proxies:` entry, mihomo YAML), v2ray 4.34 (an outbound object) and, where one
 * exists, a C peer. A row whose clash-ts outbound type is not registered yet (or whose config
 * fails `clash-ts -t`) is reported "not built yet" and skipped; it runs once the type lands.
 */
import type { Pin } from './lib/proc.js';
import {
  SECRET, UUID, startMicrosocks, startSsLocal, startSsServer, startTinyproxy, startTrojanClient, startV2rayServer, v2rayStream,
  type Listening, type PeerEnv,
} from './lib/peers.js';

/** The C (or other native) local client of a row, when one exists. */
export interface NativePeer {
  readonly label: string;
  start(env: PeerEnv, remotePort: number, pin: Pin): Promise<Listening>;
}

/** One bench row. */
export interface Row {
  readonly id: string;
  readonly title: string;
  /** clash-ts outbound types the row needs (checked with createRegistry().get) */
  readonly requires: readonly string[];
  /** what the load generator speaks to the local client */
  readonly inbound: 'socks5' | 'connect';
  /** the remote server (the far end of the protocol), absent for the direct rows */
  readonly remote?: (env: PeerEnv, pin: Pin) => Promise<Listening>;
  /** clash-ts `proxies:` entry (flow-style YAML, named `bench`); undefined = DIRECT */
  readonly clash: (remotePort: number) => string | undefined;
  /** v2ray outbound object */
  readonly v2ray: (remotePort: number, env: PeerEnv) => object;
  /** the C peer on the local side (for the direct rows it IS the proxy; remotePort is unused) */
  readonly native?: NativePeer;
}

const freedom = (): object => ({ protocol: 'freedom' });
const at = (port: number): string => `server: 127.0.0.1, port: ${port}`;

function ssRow(method: string): Row {
  return {
    id: `ss-${method}`,
    title: `ss ${method}`,
    requires: ['ss'],
    inbound: 'socks5',
    remote: (env, pin) => startSsServer(env, method, pin),
    clash: (p) => `{name: bench, type: ss, ${at(p)}, cipher: ${method}, password: ${SECRET}, udp: false}`,
    v2ray: (p) => ({ protocol: 'shadowsocks', settings: { servers: [{ address: '127.0.0.1', port: p, method, password: SECRET }] } }),
    native: { label: 'ss-local', start: (env, p, pin) => startSsLocal(env, method, p, pin) },
  };
}

type V2Proto = 'vmess' | 'vless' | 'trojan';

/** vmess / vless / trojan against v2ray as the server, with tls and/or ws. */
function v2Row(protocol: V2Proto, stream: { tls?: boolean; ws?: boolean }): Row {
  const tags = [stream.ws ? 'ws' : '', stream.tls ? 'tls' : ''].filter(Boolean);
  const clashTls = stream.tls ? ', tls: true, servername: localhost, sni: localhost, skip-cert-verify: true' : '';
  const clashWs = stream.ws ? ', network: ws, ws-opts: {path: /bench}' : '';
  const user =
    protocol === 'vmess'
      ? `uuid: ${UUID}, alterId: 0, cipher: aes-128-gcm`
      : protocol === 'vless'
        ? `uuid: ${UUID}`
        : `password: ${SECRET}`;
  const v2user =
    protocol === 'vmess'
      ? { vnext: [{ address: '127.0.0.1', port: 0, users: [{ id: UUID, alterId: 0, security: 'aes-128-gcm' }] }] }
      : protocol === 'vless'
        ? { vnext: [{ address: '127.0.0.1', port: 0, users: [{ id: UUID, encryption: 'none' }] }] }
        : { servers: [{ address: '127.0.0.1', port: 0, password: SECRET }] };
  const withPort = (p: number): object => JSON.parse(JSON.stringify(v2user).replace('"port":0', `"port":${p}`)) as object;
  return {
    id: [protocol === 'vmess' ? 'vmess-aes-128-gcm' : protocol, ...tags].join('-'),
    title: [protocol === 'vmess' ? 'vmess aes-128-gcm' : protocol, ...tags].join('+'),
    requires: [protocol],
    inbound: 'socks5',
    remote: (env, pin) => startV2rayServer(env, protocol, stream, pin),
    clash: (p) => `{name: bench, type: ${protocol}, ${at(p)}, ${user}, udp: false${clashTls}${clashWs}}`,
    v2ray: (p, env) => ({ protocol, settings: withPort(p), streamSettings: v2rayStream(stream, env.cert, false) }),
    ...(protocol === 'trojan' && !stream.ws
      ? { native: { label: 'trojan', start: (env: PeerEnv, p: number, pin: Pin) => startTrojanClient(env, p, pin) } }
      : {}),
  };
}

/** Every row, in report order. */
export const ROWS: readonly Row[] = [
  {
    id: 'direct-socks5',
    title: 'direct via SOCKS5',
    requires: [],
    inbound: 'socks5',
    clash: () => undefined,
    v2ray: freedom,
    native: { label: 'microsocks', start: (env, _p, pin) => startMicrosocks(env, pin) },
  },
  {
    id: 'direct-http',
    title: 'direct via HTTP CONNECT',
    requires: [],
    inbound: 'connect',
    clash: () => undefined,
    v2ray: freedom,
    native: { label: 'tinyproxy', start: (env, _p, pin) => startTinyproxy(env, pin) },
  },
  {
    id: 'socks5',
    title: 'socks5 (to microsocks)',
    requires: ['socks5'],
    inbound: 'socks5',
    remote: (env, pin) => startMicrosocks(env, pin),
    clash: (p) => `{name: bench, type: socks5, ${at(p)}, udp: false}`,
    v2ray: (p) => ({ protocol: 'socks', settings: { servers: [{ address: '127.0.0.1', port: p }] } }),
  },
  {
    id: 'http',
    title: 'http (to tinyproxy)',
    requires: ['http'],
    inbound: 'socks5',
    remote: (env, pin) => startTinyproxy(env, pin),
    clash: (p) => `{name: bench, type: http, ${at(p)}}`,
    v2ray: (p) => ({ protocol: 'http', settings: { servers: [{ address: '127.0.0.1', port: p }] } }),
  },
  ssRow('aes-128-gcm'),
  ssRow('chacha20-ietf-poly1305'),
  v2Row('vmess', {}),
  v2Row('vless', { tls: true }),
  v2Row('trojan', { tls: true }),
  v2Row('vmess', { ws: true }),
  v2Row('vless', { ws: true, tls: true }),
  v2Row('trojan', { ws: true, tls: true }),
];
