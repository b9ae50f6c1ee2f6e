/**
 * The rows and contenders of `npm run bench:jitter`: direct / ss aes-128-gcm / trojan-tls, each
 * with clash-ts (per runtime, and with its relay's per-turn budget off for the A/B), v2ray-go
 * 4.34 and the row's C peer. Every local client offers SOCKS5 with UDP ASSOCIATE where it can.
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../../test/support/ports.js';
import { SECRET, startMicrosocks, startTrojanClient, startV2ray, startV2rayServer, v2rayStream, type Listening, type PeerEnv } from '../lib/peers.js';
import { spawnPeer } from '../lib/proc.js';
import type { Runtime } from '../lib/runtimes.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'main.js');
const PROBE = pathToFileURL(join(ROOT, 'bench', 'probe.mjs')).href;


function scratch(env: PeerEnv, name: string): string {
  const d = join(env.dir, `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** clash-ts on `rt`, one proxy (or DIRECT), mixed port with UDP; `extraEnv` for the A/B switch. */
export async function startClashOn(env: PeerEnv, rt: Runtime, proxyYaml: string | undefined, extraEnv: NodeJS.ProcessEnv): Promise<Listening> {
  const d = scratch(env, 'clash-ts');
  const port = await freePort();
  const yaml = [
    `mixed-port: ${port}`, 'bind-address: 127.0.0.1', 'allow-lan: false', 'log-level: silent', 'mode: rule',
    ...(proxyYaml ? ['proxies:', `  - ${proxyYaml}`, 'rules:', '  - MATCH,bench'] : ['rules:', '  - MATCH,DIRECT']), '',
  ].join('\n');
  const cfg = join(d, 'config.yaml');
  writeFileSync(cfg, yaml);
  const probeFile = join(d, 'probe.json');
  const proc = await spawnPeer({
    live: env.live, name: `clash-ts ${rt.id}`, command: rt.command,
    args: ['--import', PROBE, CLI, '-d', d, '-f', cfg],
    readyPort: port, logFile: join(d, 'out.log'), env: { ...process.env, ...extraEnv, BENCH_PROBE_FILE: probeFile },
  });
  return { port, proc, probeFile };
}

async function v2rayLocal(env: PeerEnv, outbound: object): Promise<Listening> {
  const port = await freePort();
  const inbound = { listen: '127.0.0.1', port, protocol: 'socks', settings: { auth: 'noauth', udp: true, ip: '127.0.0.1' } };
  return startV2ray(env, 'v2ray-client', inbound, outbound, port, undefined);
}

async function ssServer(env: PeerEnv): Promise<Listening> {
  const d = scratch(env, 'ss-server');
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live, name: 'ss-server', command: 'ss-server',
    args: ['-s', '127.0.0.1', '-p', String(port), '-k', SECRET, '-m', 'aes-128-gcm', '-u', '--no-delay'], readyPort: port, logFile: join(d, 'out.log'),
  });
  return { port, proc };
}

async function ssLocal(env: PeerEnv, remotePort: number): Promise<Listening> {
  const d = scratch(env, 'ss-local');
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live, name: 'ss-local', command: 'ss-local',
    args: ['-s', '127.0.0.1', '-p', String(remotePort), '-b', '127.0.0.1', '-l', String(port), '-k', SECRET, '-m', 'aes-128-gcm', '-u', '--no-delay'],
    readyPort: port, logFile: join(d, 'out.log'),
  });
  return { port, proc };
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
    remote: ssServer,
    clash: (p) => `{name: bench, type: ss, server: 127.0.0.1, port: ${p}, cipher: aes-128-gcm, password: ${SECRET}, udp: true}`,
    v2ray: (p) => ({ protocol: 'shadowsocks', settings: { servers: [{ address: '127.0.0.1', port: p, method: 'aes-128-gcm', password: SECRET }] } }),
    native: { label: 'ss-local', udp: true, start: ssLocal },
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
