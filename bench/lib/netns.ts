/**
 * Two network namespaces joined by a link with a simulated round-trip time, for the benches
 * where RTT matters (warm pool, RTT rows).
 *
 * Layout: a client namespace (198.18.0.1) and a server namespace (198.18.0.2), addresses from
 * RFC 2544's benchmarking range, one point-to-point link between them, loopback up in each, no
 * default route, no NAT, nothing bridged to the host: traffic never leaves the two namespaces.
 *
 * The link: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is not set), so instead of
 * veth + `tc netem` the link is a TUN device in each namespace and bench/netns/delay-line.c
 * between them, which holds every packet for RTT/2 in each direction (see that file).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sleep } from './proc.js';
import { compileC } from './compile-c.js';

/** Every namespace a bench creates starts with this (then `c-`/`s-` and the bench's PID). */
export const NETNS_PREFIX = 'ctsb-';
/** The client side's address on the link. */
export const CLIENT_ADDR = '198.18.0.1';
/** The server side's address on the link. */
export const SERVER_ADDR = '198.18.0.2';

const SOURCE = fileURLToPath(new URL('../netns/delay-line.c', import.meta.url));

/** The two namespaces and the delayed link between them; `close()` removes all of it. */
export interface RttLink {
  /** client namespace name */
  readonly client: string;
  /** server namespace name */
  readonly server: string;
  readonly rttMs: number;
  /** argv prefix that runs a command inside namespace `ns` (ip netns exec keeps the PID: it execs) */
  inNs(ns: string): string[];
  /** Stops the delay line and every process still in either namespace, then deletes both. */
  close(): Promise<void>;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Namespace names on this host. */
function namespaces(): string[] {
  return ip(['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

function pidAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Kills every process inside namespace `ns` (by PID) and deletes it. */
async function removeNamespace(ns: string): Promise<void> {
  let pids: number[] = [];
  try {
    pids = ip(['netns', 'pids', ns]).split('\n').map(Number).filter((p) => p > 0);
  } catch {
    pids = [];
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  for (let k = 0; k < 50 && pids.some(pidAlive); k++) await sleep(100);
  for (const pid of pids.filter(pidAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  try {
    ip(['netns', 'delete', ns]);
  } catch {
    /* deleted meanwhile */
  }
}

/**
 * Removes namespaces left by a crashed bench run: every `ctsb-c-PID` / `ctsb-s-PID` whose PID is
 * not a live process. Returns the names removed.
 */
export async function removeStaleNamespaces(): Promise<string[]> {
  const stale = namespaces().filter((n) => {
    const m = /^ctsb-[cs]-(\d+)(?:-\d+)?$/.exec(n);
    return m !== null && (Number(m[1]) === process.pid ? false : !pidAlive(Number(m[1])));
  });
  for (const n of stale) await removeNamespace(n);
  return stale;
}

/** Compiles the delay line with the machine's gcc into `dir` (when older than its source). */
export function buildDelayLine(dir: string): string {
  return compileC(SOURCE, dir, 'delay-line');
}

let serial = 0;

/**
 * Creates the two namespaces and the link with `rttMs` round-trip time (half each way).
 * On any failure everything made so far is removed before the error is thrown.
 */
export async function createRttLink(delayLine: string, rttMs: number): Promise<RttLink> {
  const tag = `${process.pid}-${serial++}`;
  const client = `${NETNS_PREFIX}c-${tag}`;
  const server = `${NETNS_PREFIX}s-${tag}`;
  const tunC = `ctsbc${tag.replace('-', 'x')}`.slice(0, 15);
  const tunS = `ctsbs${tag.replace('-', 'x')}`.slice(0, 15);
  let line: ChildProcess | undefined;
  const close = async (): Promise<void> => {
    if (line && line.exitCode === null && line.signalCode === null) {
      const gone = new Promise((r) => line?.once('exit', r));
      line.kill('SIGTERM');
      await gone;
    }
    for (const ns of [client, server]) if (namespaces().includes(ns)) await removeNamespace(ns);
  };
  try {
    ip(['netns', 'add', client]);
    ip(['netns', 'add', server]);
    for (const ns of [client, server]) ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    const oneWayUs = String(Math.round((rttMs * 1000) / 2));
    line = spawn(delayLine, [`/var/run/netns/${client}`, tunC, `/var/run/netns/${server}`, tunS, oneWayUs], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      const t = setTimeout(() => reject(new Error('delay line: no "ready" within 5 s')), 5000);
      line?.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      line?.stderr?.on('data', (c: Buffer) => (err += c.toString()));
      line?.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`delay line exited ${code}: ${err.trim()}`));
      });
      line?.once('error', reject);
    });
    ip(['-n', client, 'addr', 'add', CLIENT_ADDR, 'peer', SERVER_ADDR, 'dev', tunC]);
    ip(['-n', server, 'addr', 'add', SERVER_ADDR, 'peer', CLIENT_ADDR, 'dev', tunS]);
    ip(['-n', client, 'link', 'set', tunC, 'up']);
    ip(['-n', server, 'link', 'set', tunS, 'up']);
  } catch (err) {
    await close();
    throw err;
  }
  return { client, server, rttMs, inNs: (ns) => ['ip', 'netns', 'exec', ns], close };
}

/**
 * Resolves once something in namespace `ns` accepts TCP on host:port (bash's /dev/tcp inside
 * the namespace), bounded by `timeoutMs`.
 */
export async function waitForPortIn(ns: string, host: string, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { stdio: 'ignore', timeout: 5000 });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} in ${ns} after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}
