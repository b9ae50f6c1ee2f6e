/**
 * The rows of the simulated-RTT bench (issue 6): the protocol rows where the round trip to the
 * server matters. Each row has one remote server in the server namespace and the local clients
 * it compares in the client namespace (clash-ts vs v2ray-go 4.34; trojan also with clash-ts's
 * warm pool off), each offering SOCKS5 to the load generator.
 */
import { freePort } from '../../test/support/ports.js';
import { startClashIn, startSsServerIn, startTrojanServerIn, startV2rayIn, type NsPlace } from './netns-peers.js';
import { SECRET, UUID, v2rayInbound, type Listening, type PeerEnv } from './peers.js';

/** A started local client: its SOCKS5 port. */
export type StartClient = (env: PeerEnv, at: NsPlace, remote: NsPlace & { port: number }) => Promise<Listening>;

/** One row: how to start its remote server and its contenders. */
export interface RttRow {
  readonly id: string;
  readonly title: string;
  /** the remote server on `at`; `fallbackPort` is nginx on the server namespace's loopback */
  readonly server: (env: PeerEnv, at: NsPlace, fallbackPort: number) => Promise<Listening>;
  readonly contenders: readonly { readonly label: string; readonly start: StartClient }[];
}

/** v2ray 4.34 as the local client: SOCKS5 in, `outbound` out. */
async function v2rayClient(env: PeerEnv, at: NsPlace, outbound: object): Promise<Listening> {
  const port = await freePort();
  const inbound = { ...v2rayInbound('socks5', port), listen: at.host };
  return startV2rayIn(env, at, 'v2ray-client', inbound, outbound, port);
}

const clash = (proxy: (r: NsPlace & { port: number }) => string, pool?: boolean): StartClient =>
  (env, at, remote) => startClashIn(env, at, proxy(remote), pool === undefined ? [] : [`warm-pool: { enable: ${pool}, max: 128 }`]);

const tlsClient = { security: 'tls', tlsSettings: { serverName: 'localhost', allowInsecure: true } };

/** Every row, in report order. */
export const RTT_ROWS: readonly RttRow[] = [
  {
    id: 'ss',
    title: 'shadowsocks aes-128-gcm (ss-server)',
    server: (env, at) => startSsServerIn(env, at, 'aes-128-gcm'),
    contenders: [
      { label: 'clash-ts', start: clash((r) => `{ name: bench, type: ss, server: ${r.host}, port: ${r.port}, cipher: aes-128-gcm, password: ${SECRET}, udp: false }`) },
      {
        label: 'v2ray-go',
        start: (env, at, r) => v2rayClient(env, at, { protocol: 'shadowsocks', settings: { servers: [{ address: r.host, port: r.port, method: 'aes-128-gcm', password: SECRET }] } }),
      },
    ],
  },
  {
    id: 'vmess',
    title: 'vmess aes-128-gcm, AEAD header (v2ray server)',
    server: async (env, at) => {
      const port = await freePort();
      const inbound = { listen: at.host, port, protocol: 'vmess', settings: { clients: [{ id: UUID, alterId: 0 }] } };
      return startV2rayIn(env, at, 'v2ray-vmess-server', inbound, { protocol: 'freedom' }, port);
    },
    contenders: [
      { label: 'clash-ts', start: clash((r) => `{ name: bench, type: vmess, server: ${r.host}, port: ${r.port}, uuid: ${UUID}, alterId: 0, cipher: aes-128-gcm, udp: false }`) },
      {
        label: 'v2ray-go',
        start: (env, at, r) =>
          v2rayClient(env, at, { protocol: 'vmess', settings: { vnext: [{ address: r.host, port: r.port, users: [{ id: UUID, alterId: 0, security: 'aes-128-gcm' }] }] } }),
      },
    ],
  },
  {
    id: 'trojan',
    title: 'trojan over TLS (trojan-gfw server)',
    server: (env, at, fallbackPort) => startTrojanServerIn(env, at, fallbackPort),
    contenders: [
      { label: 'clash-ts', start: clash((r) => trojanYaml(r), true) },
      { label: 'v2ray-go', start: (env, at, r) => v2rayClient(env, at, { protocol: 'trojan', settings: { servers: [{ address: r.host, port: r.port, password: SECRET }] }, streamSettings: tlsClient }) },
      { label: 'clash-ts, pool off', start: clash((r) => trojanYaml(r), false) },
    ],
  },
];

function trojanYaml(r: NsPlace & { port: number }): string {
  return `{ name: bench, type: trojan, server: ${r.host}, port: ${r.port}, password: ${SECRET}, sni: localhost, skip-cert-verify: true, udp: false }`;
}
