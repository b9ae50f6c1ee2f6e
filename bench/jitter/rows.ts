/**
 * The rows and contenders of `npm run bench:jitter`: direct / ss aes-128-gcm / trojan-tls, each
 * with clash-ts (per runtime, and with its relay's per-turn budget off for the A/B), v2ray-go
 * 4.34 and the row's C peer. Every local client offers SOCKS5 with UDP ASSOCIATE where it can.
 */
import { freePort } from '../../test/support/ports.js';
import { SECRET, startMicrosocks, startSsLocal, startSsServer, startTrojanClient, startV2ray, startV2rayServer, v2rayStream, type Listening, type PeerEnv } from '../lib/peers.js';

async function v2rayLocal(env: PeerEnv, outbound: object): Promise<Listening> {
  const port = await freePort();
  const inbound = { listen: '127.0.0.1', port, protocol: 'socks', settings: { auth: 'noauth', udp: true, ip: '127.0.0.1' } };
  return startV2ray(env, 'v2ray-client', inbound, outbound, port, undefined);
}

/** One row: its remote server, clash-ts's proxy entry, v2ray's outbound, the C peer. */
export interface JitterRow {
  readonly id: string;
  readonly title: string;
  readonly remote?: (env: PeerEnv) => Promise<Listening>;
  readonly clash: (remotePort: number) => string | undefined;
  readonly v2ray: (remotePort: number, env: PeerEnv) => object;
  readonly native?: { readonly label: string; readonly udp: boolean; start(env: PeerEnv, remotePort: number): Promise<Listening> };
}

export const JITTER_ROWS: readonly JitterRow[] = [
  {
    id: 'direct', title: 'direct via SOCKS5',
    clash: () => undefined,
    v2ray: () => ({ protocol: 'freedom' }),
    native: { label: 'microsocks', udp: false, start: (env) => startMicrosocks(env, undefined) },
  },
  {
    id: 'ss', title: 'ss aes-128-gcm (ss-server)',
    remote: (env) => startSsServer(env, 'aes-128-gcm', undefined, true),
    clash: (p) => `{name: bench, type: ss, server: 127.0.0.1, port: ${p}, cipher: aes-128-gcm, password: ${SECRET}, udp: true}`,
    v2ray: (p) => ({ protocol: 'shadowsocks', settings: { servers: [{ address: '127.0.0.1', port: p, method: 'aes-128-gcm', password: SECRET }] } }),
    native: { label: 'ss-local', udp: true, start: (env, port) => startSsLocal(env, 'aes-128-gcm', port, undefined, true) },
  },
  {
    id: 'trojan', title: 'trojan-tls (v2ray server)',
    remote: (env) => startV2rayServer(env, 'trojan', { tls: true }, undefined),
    clash: (p) => `{name: bench, type: trojan, server: 127.0.0.1, port: ${p}, password: ${SECRET}, udp: true, sni: localhost, skip-cert-verify: true}`,
    v2ray: (p, env) => ({ protocol: 'trojan', settings: { servers: [{ address: '127.0.0.1', port: p, password: SECRET }] }, streamSettings: v2rayStream({ tls: true }, env.cert, false) }),
    native: { label: 'trojan (C++)', udp: true, start: (env, p) => startTrojanClient(env, p, undefined) },
  },
];

export { v2rayLocal };
