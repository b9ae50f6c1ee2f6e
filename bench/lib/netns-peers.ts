/**
 * Peers started inside a namespace of an RttLink (see netns.ts): the remote servers in the
 * server namespace. `ip netns exec` execs, so each BenchProc's PID is the peer's own and is
 * stopped by that PID; readiness is checked from inside the namespace.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/ports.js';
import { waitForPortIn } from './netns.js';
import { CLASH_CLI, SECRET, type Listening, type PeerEnv } from './peers.js';
import { spawnPeer } from './proc.js';
import { nginxConf } from './target.js';

const ECHO = fileURLToPath(new URL('../netns/echo-server.mjs', import.meta.url));

/** Where a peer runs: a namespace and the address it listens on there. */
export interface NsPlace {
  readonly ns: string;
  readonly host: string;
}

function scratch(env: PeerEnv, name: string): string {
  const d = join(env.dir, `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Spawns `command args` inside `at.ns` and waits until at.host:port accepts TCP there. */
export async function spawnInNs(env: PeerEnv, at: NsPlace, name: string, command: string, args: readonly string[], port: number, logFile?: string): Promise<Listening> {
  const proc = await spawnPeer({ live: env.live, name, command: 'ip', args: ['netns', 'exec', at.ns, command, ...args], ...(logFile && { logFile }) });
  try {
    await waitForPortIn(at.ns, at.host, port);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { port, proc };
}

/** The TCP echo (node) on at.host. */
export async function startEchoIn(env: PeerEnv, at: NsPlace): Promise<Listening> {
  const port = await freePort();
  return spawnInNs(env, at, 'echo', process.execPath, [ECHO, at.host, String(port)], port);
}

/** trojan-gfw as a trojan server on at.host; `fallbackPort` (on the namespace's loopback) gets non-trojan traffic. */
export async function startTrojanServerIn(env: PeerEnv, at: NsPlace, fallbackPort: number): Promise<Listening> {
  const d = scratch(env, 'trojan-server');
  const port = await freePort();
  const cfg = join(d, 'server.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      run_type: 'server',
      local_addr: at.host,
      local_port: port,
      remote_addr: '127.0.0.1',
      remote_port: fallbackPort,
      password: [SECRET],
      log_level: 5,
      ssl: { cert: env.cert.certFile, key: env.cert.keyFile, alpn: ['http/1.1'], reuse_session: true, session_ticket: false },
      tcp: { no_delay: true, keep_alive: true, fast_open: false },
    }),
  );
  return spawnInNs(env, at, 'trojan-server', 'trojan', ['-c', cfg], port, join(d, 'out.log'));
}

/** nginx in `at.ns` on at.host with its own prefix and the bench's config (nginxConf): a 1 KiB /small.bin. */
export async function startNginxIn(env: PeerEnv, at: NsPlace): Promise<Listening> {
  const prefix = scratch(env, 'nginx');
  const www = join(prefix, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'small.bin'), randomBytes(1024));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, www, at.host, port));
  return spawnInNs(env, at, 'nginx', '/usr/sbin/nginx', ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], port, join(prefix, 'stdout.log'));
}

/** clash-ts (dist/main.js) in `at.ns`, mixed port on at.host, one proxy, everything routed to it. */
export async function startClashIn(env: PeerEnv, at: NsPlace, proxyYaml: string, extraYaml: readonly string[] = []): Promise<Listening> {
  const d = scratch(env, 'clash-ts');
  const port = await freePort();
  const yaml = [
    `mixed-port: ${port}`, `bind-address: ${at.host}`, 'allow-lan: false', `log-level: ${process.env.BENCH_CLASH_LOG ?? 'silent'}`, 'mode: rule', ...extraYaml,
    'proxies:', `  - ${proxyYaml}`, 'rules:', '  - MATCH,bench', '',
  ].join('\n');
  const cfg = join(d, 'config.yaml');
  writeFileSync(cfg, yaml);
  return spawnInNs(env, at, 'clash-ts', process.execPath, [CLASH_CLI, '-d', d, '-f', cfg], port, join(d, 'out.log'));
}

/** shadowsocks-libev's ss-server on at.host. */
export async function startSsServerIn(env: PeerEnv, at: NsPlace, method: string): Promise<Listening> {
  const d = scratch(env, 'ss-server');
  const port = await freePort();
  return spawnInNs(env, at, 'ss-server', 'ss-server', ['-s', at.host, '-p', String(port), '-k', SECRET, '-m', method, '--no-delay'], port, join(d, 'out.log'));
}

/** v2ray 4.34 in `at.ns` with one inbound (listening on at.host:port) and one outbound. */
export async function startV2rayIn(env: PeerEnv, at: NsPlace, name: string, inbound: object, outbound: object, port: number): Promise<Listening> {
  const d = scratch(env, name);
  const cfg = join(d, 'config.json');
  writeFileSync(cfg, JSON.stringify({ log: { loglevel: 'none', access: '' }, inbounds: [inbound], outbounds: [outbound] }, null, 2));
  return spawnInNs(env, at, name, 'v2ray', ['-config', cfg], port, join(d, 'out.log'));
}
