/**
 * Peers started inside a namespace of an RttLink (see netns.ts): the remote servers in the
 * server namespace. `ip netns exec` execs, so each BenchProc's PID is the peer's own and is
 * stopped by that PID; readiness is checked from inside the namespace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/ports.js';
import { waitForPortIn } from './netns.js';
import { SECRET, type Listening, type PeerEnv } from './peers.js';
import { spawnPeer } from './proc.js';

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
