import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../../test/support/ports.js';
import { spawnPeer, type BenchProc, type Pin } from './proc.js';
import type { Runtime } from './runtimes.js';
import type { BenchCert } from './target.js';

/** What every starter needs: a scratch dir, the certificate, the repo's built CLI. */
export interface PeerEnv {
  readonly dir: string;
  readonly cert: BenchCert;
  /** every peer started in this run, stopped by PID if the run is interrupted */
  readonly live: Set<BenchProc>;
}

/** A started peer and the loopback port it listens on. */
export interface Listening {
  readonly port: number;
  readonly proc: BenchProc;
  /** clash-ts only: where the probe writes GC / event-loop stats */
  readonly probeFile?: string;
}

const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const PROBE = pathToFileURL(fileURLToPath(new URL('../probe.mjs', import.meta.url))).href;

/** The shared secret of every row (password / key). */
export const SECRET = 'clash-ts-bench-secret';
/** The VMess / VLESS user id of every row. */
export const UUID = 'b831381d-6324-4d53-ad4f-8cda48b30811';

/** A fresh scratch dir for one peer's config and log, under the run's dir. */
export function scratch(env: PeerEnv, name: string): string {
  const d = join(env.dir, `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** clash-ts from dist/main.js with the GC / event-loop probe, on a mixed port, on `runtime`
 * (default: the Node running the bench); `extraEnv` for an A/B switch such as the relay budget. */
export async function startClash(
  env: PeerEnv,
  proxyYaml: string | undefined,
  pin: Pin,
  profileDir?: string,
  runtime?: Runtime,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Listening> {
  const d = scratch(env, 'clash-ts');
  const port = await freePort();
  const yaml = [
    `mixed-port: ${port}`,
    'bind-address: 127.0.0.1',
    'allow-lan: false',
    'log-level: silent',
    'mode: rule',
    ...(proxyYaml ? ['proxies:', `  - ${proxyYaml}`, 'rules:', '  - MATCH,bench'] : ['rules:', '  - MATCH,DIRECT']),
    '',
  ].join('\n');
  const cfg = join(d, 'config.yaml');
  writeFileSync(cfg, yaml);
  const probeFile = join(d, 'probe.json');
  const proc = await spawnPeer({
    live: env.live,
    name: runtime?.label ?? 'clash-ts',
    command: runtime?.command ?? process.execPath,
    args: [...(profileDir && (runtime?.cpuProf ?? true) ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), '--import', PROBE, CLI, '-d', d, '-f', cfg],
    pin,
    readyPort: port,
    logFile: join(d, 'out.log'),
    env: { ...process.env, ...extraEnv, BENCH_PROBE_FILE: probeFile },
  });
  return { port, proc, probeFile };
}

/** The clash-ts YAML for a config test (`-t`): used to tell "not built yet" rows. */
export function clashTestYaml(proxyYaml: string): string {
  return ['mixed-port: 0', 'log-level: silent', 'proxies:', `  - ${proxyYaml}`, 'rules:', '  - MATCH,bench', ''].join('\n');
}

/** The CLI path, for the `-t` check. */
export const CLASH_CLI = CLI;

/** A v2ray 4.34 inbound for the local side: what the load generator speaks to. */
export function v2rayInbound(kind: 'socks5' | 'connect', port: number): object {
  return kind === 'socks5'
    ? { listen: '127.0.0.1', port, protocol: 'socks', settings: { auth: 'noauth', udp: false } }
    : { listen: '127.0.0.1', port, protocol: 'http', settings: {} };
}

/** v2ray with one inbound and one outbound (the config is written to its own dir). */
export async function startV2ray(env: PeerEnv, name: string, inbound: object, outbound: object, port: number, pin: Pin): Promise<Listening> {
  const d = scratch(env, name);
  const cfg = join(d, 'config.json');
  writeFileSync(cfg, JSON.stringify({ log: { loglevel: 'none', access: '' }, inbounds: [inbound], outbounds: [outbound] }, null, 2));
  const proc = await spawnPeer({
    live: env.live, name, command: 'v2ray', args: ['-config', cfg], pin, readyPort: port, logFile: join(d, 'out.log') });
  return { port, proc };
}

/** microsocks (C, thread per connection) on a free port. */
export async function startMicrosocks(env: PeerEnv, pin: Pin): Promise<Listening> {
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live, name: 'microsocks', command: 'microsocks', args: ['-i', '127.0.0.1', '-p', String(port)], pin, readyPort: port });
  return { port, proc };
}

/** tinyproxy (C) in the foreground with its own config; room for 12,000 clients. */
export async function startTinyproxy(env: PeerEnv, pin: Pin): Promise<Listening> {
  const d = scratch(env, 'tinyproxy');
  const port = await freePort();
  const cfg = join(d, 'tinyproxy.conf');
  writeFileSync(
    cfg,
    [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 600', 'MaxClients 12000', 'Allow 127.0.0.1', 'LogLevel Critical', 'DisableViaHeader Yes',
      `PidFile "${d}/tinyproxy.pid"`, ''].join('\n'),
  );
  const proc = await spawnPeer({
    live: env.live, name: 'tinyproxy', command: 'tinyproxy', args: ['-d', '-c', cfg], pin, readyPort: port, logFile: join(d, 'out.log') });
  return { port, proc };
}

/** shadowsocks-libev's ss-server (the remote of the ss rows); `udp` relays UDP too (-u). */
export async function startSsServer(env: PeerEnv, method: string, pin: Pin, udp = false): Promise<Listening> {
  const d = scratch(env, 'ss-server');
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live,
    name: 'ss-server',
    command: 'ss-server',
    args: ['-s', '127.0.0.1', '-p', String(port), '-k', SECRET, '-m', method, ...(udp ? ['-u'] : []), '--no-delay'],
    pin,
    readyPort: port,
    logFile: join(d, 'out.log'),
  });
  return { port, proc };
}

/** ss-local (the C client of the ss rows): SOCKS5 in, shadowsocks out; `udp` for UDP ASSOCIATE (-u). */
export async function startSsLocal(env: PeerEnv, method: string, remotePort: number, pin: Pin, udp = false): Promise<Listening> {
  const d = scratch(env, 'ss-local');
  const port = await freePort();
  const proc = await spawnPeer({
    live: env.live,
    name: 'ss-local',
    command: 'ss-local',
    args: ['-s', '127.0.0.1', '-p', String(remotePort), '-b', '127.0.0.1', '-l', String(port), '-k', SECRET, '-m', method, ...(udp ? ['-u'] : []), '--no-delay'],
    pin,
    readyPort: port,
    logFile: join(d, 'out.log'),
  });
  return { port, proc };
}

/** trojan-gfw as the client of the trojan row: SOCKS5 in, trojan over TLS out. */
export async function startTrojanClient(env: PeerEnv, remotePort: number, pin: Pin): Promise<Listening> {
  const d = scratch(env, 'trojan');
  const port = await freePort();
  const cfg = join(d, 'client.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      run_type: 'client',
      local_addr: '127.0.0.1',
      local_port: port,
      remote_addr: '127.0.0.1',
      remote_port: remotePort,
      password: [SECRET],
      log_level: 5,
      ssl: { verify: false, verify_hostname: false, sni: 'localhost', reuse_session: true, session_ticket: false },
      tcp: { no_delay: true, keep_alive: true },
    }),
  );
  const proc = await spawnPeer({
    live: env.live, name: 'trojan', command: 'trojan', args: ['-c', cfg], pin, readyPort: port, logFile: join(d, 'out.log') });
  return { port, proc };
}

/** v2ray stream settings for tls / ws / ws+tls, server side (`server`) or client side. */
export function v2rayStream(opts: { tls?: boolean; ws?: boolean }, cert: BenchCert, server: boolean): object {
  const s: Record<string, unknown> = { network: opts.ws ? 'ws' : 'tcp' };
  if (opts.ws) s.wsSettings = { path: '/bench' };
  if (opts.tls) {
    s.security = 'tls';
    s.tlsSettings = server
      ? { certificates: [{ certificateFile: cert.certFile, keyFile: cert.keyFile }] }
      : { serverName: 'localhost', allowInsecure: true };
  }
  return s;
}

/** v2ray as the remote server of a protocol row (vmess, vless, trojan), freedom outbound. */
export async function startV2rayServer(env: PeerEnv, protocol: 'vmess' | 'vless' | 'trojan', stream: { tls?: boolean; ws?: boolean }, pin: Pin): Promise<Listening> {
  const port = await freePort();
  const settings =
    protocol === 'vmess'
      ? { clients: [{ id: UUID, alterId: 0 }] }
      : protocol === 'vless'
        ? { clients: [{ id: UUID }], decryption: 'none' }
        : { clients: [{ password: SECRET }] };
  const inbound = { listen: '127.0.0.1', port, protocol, settings, streamSettings: v2rayStream(stream, env.cert, true) };
  return startV2ray(env, `v2ray-${protocol}-server`, inbound, { protocol: 'freedom' }, port, pin);
}
