import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hardNofile, type Pin } from './proc.js';
import { compileC } from './compile-c.js';

const SOURCE = fileURLToPath(new URL('../loadgen/lg.c', import.meta.url));

/** What the C generator prints: one JSON object per run. */
export interface LoadResult {
  readonly ok: number;
  readonly errors: number;
  /** requests still in flight when the time bound hit (not errors) */
  readonly cut: number;
  readonly held: number;
  readonly elapsed: number;
  readonly rps: number;
  readonly bytes: number;
  readonly bytesPerSec: number;
  /** latency in ms */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly firstError: string;
  /** [quantile, ms] */
  readonly cdf: readonly (readonly [number, number])[];
  /** the generator's own CPU seconds */
  readonly cpuSeconds: number;
}

/** How the generator reaches the target. */
export type Via = { readonly kind: 'direct' } | { readonly kind: 'socks5' | 'connect'; readonly port: number };

/** One run's shape. */
export interface LoadSpec {
  readonly via: Via;
  readonly targetPort: number;
  readonly path: string;
  readonly conns: number;
  readonly requests: number;
  readonly seconds: number;
  readonly keepAlive?: boolean;
  readonly rate?: number;
  /** the target's address (default 127.0.0.1) */
  readonly targetHost?: string;
  /** run inside this network namespace (ip netns exec; the RTT benches) */
  readonly netns?: string;
}

/** Compiles lg.c with the machine's gcc into `dir` (once per bench run) and returns the binary. */
export function buildLoadgen(dir: string): string {
  return compileC(SOURCE, dir, 'lg');
}

function args(spec: LoadSpec): string[] {
  const a = ['-T', `${spec.targetHost ?? '127.0.0.1'}:${spec.targetPort}`, '-p', spec.path, '-c', String(spec.conns), '-n', String(spec.requests), '-d', String(spec.seconds)];
  if (spec.via.kind !== 'direct') a.push('-m', spec.via.kind, '-P', `127.0.0.1:${spec.via.port}`);
  else a.push('-m', 'direct');
  if (spec.keepAlive) a.push('-k');
  if (spec.rate) a.push('-R', String(spec.rate));
  return a;
}

function prefix(pin: Pin, nofile: number): string[] {
  const p = pin === undefined ? [] : ['taskset', '-c', String(pin)];
  return [...p, 'prlimit', `--nofile=${nofile}`, '--'];
}

/** Runs one bounded load (the generator stops itself after `seconds`; we kill it 15 s later). */
export function runLoad(bin: string, spec: LoadSpec, pin: Pin): Promise<LoadResult> {
  const argv = [...(spec.netns ? ['ip', 'netns', 'exec', spec.netns] : []), ...prefix(pin, hardNofile()), bin, ...args(spec)];
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    const kill = setTimeout(() => p.kill('SIGKILL'), (spec.seconds + 15) * 1000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      try {
        resolve(JSON.parse(out) as LoadResult);
      } catch {
        reject(new Error(`load generator exited ${code}: ${err.slice(0, 500)} ${out.slice(0, 500)}`));
      }
    });
  });
}

/** Idle tunnels being held open by the generator; `release()` lets it exit. */
export interface Held {
  /** tunnels established and used once */
  readonly held: number;
  readonly failed: number;
  release(): Promise<LoadResult | undefined>;
}

/**
 * Opens `count` tunnels through the proxy, each carrying one small keep-alive request, and
 * keeps them idle until `release()` (or `maxSeconds`, the generator's own bound).
 */
export function holdTunnels(bin: string, via: Via, targetPort: number, count: number, maxSeconds: number, pin: Pin): Promise<Held> {
  const spec: LoadSpec = { via, targetPort, path: '/small.bin', conns: count, requests: count, seconds: maxSeconds };
  const argv = [...prefix(pin, hardNofile()), bin, ...args(spec), '-H', '-t', '30000'];
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let ready = false;
    const done = new Promise<LoadResult | undefined>((r) => {
      p.on('exit', () => {
        clearTimeout(kill);
        try {
          r(JSON.parse(out) as LoadResult);
        } catch {
          r(undefined);
        }
      });
    });
    const kill = setTimeout(() => p.kill('SIGKILL'), (maxSeconds + 15) * 1000);
    p.stdin.on('error', () => {});
    p.on('error', reject);
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /READY (\d+) (\d+)/.exec(err);
      if (m && !ready) {
        ready = true;
        resolve({
          held: Number(m[1]),
          failed: Number(m[2]),
          release: () => {
            p.stdin.end();
            return done;
          },
        });
      }
    });
    void done.then(() => {
      if (!ready) reject(new Error(`hold ended before READY: ${err.slice(0, 300)}`));
    });
  });
}
