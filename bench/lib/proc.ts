import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { waitForPort } from '../../test/support/ports.js';

/** Which CPU a process is pinned to (taskset), or none. */
export type Pin = number | undefined;

/** A process the bench started, known by its PID, stopped by that PID. */
export interface BenchProc {
  readonly name: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** SIGTERM, SIGKILL after 5 s; resolves once it exited */
  stop(): Promise<void>;
  /** true once it exited */
  exited(): boolean;
}

/** How to start one peer. */
export interface SpawnSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly pin?: Pin;
  /** open-file limit for the process (prlimit; default: the hard limit); a held tunnel costs a proxy 2 */
  readonly nofile?: number;
  /** where stdout+stderr go (a file); default: discarded */
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** ready once TCP on this port accepts */
  readonly readyPort?: number;
  /** the run's set of live peers (so an interrupted run stops each by its PID) */
  readonly live?: Set<BenchProc>;
}

/** Facts the report states: whether pinning happens and to which cores. */
export interface Pinning {
  readonly enabled: boolean;
  /** the proxy under test */
  readonly proxyCpu: Pin;
  /** load generator, nginx, remote servers */
  readonly restCpu: Pin;
}

/**
 * The hard open-file limit of this process: what prlimit may raise a child's soft limit to
 * (without CAP_SYS_RESOURCE it cannot go higher, and this sandbox has none).
 */
export function hardNofile(): number {
  const v = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  return Number.isFinite(v) && v > 0 ? v : 1024;
}

/**
 * Spawns `command` through taskset and prlimit (both exec, so the PID is the peer's own) and,
 * when `readyPort` is set, waits (bounded, 15 s) until it accepts TCP.
 */
export async function spawnPeer(spec: SpawnSpec): Promise<BenchProc> {
  const argv: string[] = [];
  if (spec.pin !== undefined) argv.push('taskset', '-c', String(spec.pin));
  argv.push('prlimit', `--nofile=${spec.nofile ?? hardNofile()}`, '--', spec.command, ...spec.args);
  const out = spec.logFile ? openSync(spec.logFile, 'a') : 'ignore';
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, out], env: spec.env ?? process.env });
  if (typeof out === 'number') closeSync(out);
  const exit = new Promise<void>((r) => proc.once('exit', () => r()));
  void exit.then(() => spec.live?.delete(bp));
  const failed = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`${spec.name}: ${e.message}`))));
  const bp: BenchProc = {
    name: spec.name,
    pid: proc.pid ?? -1,
    proc,
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
    async stop() {
      if (bp.exited()) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
  spec.live?.add(bp);
  if (spec.readyPort !== undefined) {
    try {
      await Promise.race([
        waitForPort(spec.readyPort, '127.0.0.1', 15_000),
        failed,
        exit.then(() => {
          const log = spec.logFile ? readFileSync(spec.logFile, 'utf8').slice(-2000) : '';
          throw new Error(`${spec.name} exited during startup ${log}`);
        }),
      ]);
    } catch (err) {
      if (!bp.exited()) proc.kill('SIGKILL');
      throw err;
    }
  }
  return bp;
}

/** CPU and memory of one process, from /proc. */
export interface ProcSample {
  /** user + system CPU seconds, all threads */
  readonly cpu: number;
  /** resident set now, bytes */
  readonly rss: number;
  /** peak resident set (VmHWM), bytes */
  readonly hwm: number;
}

const TICKS = 100; // CLK_TCK on Linux x86-64

/** Reads /proc/PID/stat and /proc/PID/status; undefined if the process is gone. */
export function sample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces: fields are counted after its closing parenthesis
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(f[11]) + Number(f[12])) / TICKS; // utime, stime (fields 14 and 15)
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpu, rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * Sets the CPU affinity of every thread of a running process (`taskset -a -p`): `cpus` is a
 * taskset list ("0-1"), or a single CPU. False if the process is gone.
 */
export function setAffinity(pid: number, cpus: string | number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpus), String(pid)], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** A bounded sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
