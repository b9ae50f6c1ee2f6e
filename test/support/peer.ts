import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForPort } from './ports.js';

/** A real server process (a Debian package's binary) started by a test, with its PID. */
export interface Peer {
  readonly name: string;
  readonly pid: number;
  /** everything it printed, for failure messages */
  output(): string;
  /** SIGTERM, then SIGKILL after a bound; resolves when it exited */
  stop(): Promise<void>;
  /** SIGKILL now (the "server dies mid-stream" case) */
  kill(): Promise<void>;
}

/** What to start and how to know it is ready. */
export interface PeerSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** ready once this TCP port accepts connections */
  readonly readyPort?: number;
  readonly readyHost?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** A fresh temp directory for a peer's config files. */
export function peerDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `clash-ts-${name}-`));
}

/** Writes `text` to `dir/file` and returns the path. */
export function writePeerFile(dir: string, file: string, text: string): string {
  const p = join(dir, file);
  writeFileSync(p, text);
  return p;
}

/**
 * Starts a peer and waits until it accepts TCP on `readyPort` (bounded); a peer that exits
 * first fails the start with its output.
 */
export async function startPeer(spec: PeerSpec): Promise<Peer> {
  const proc: ChildProcess = spawn(spec.command, [...spec.args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: spec.env ?? process.env,
    cwd: spec.cwd,
  });
  let out = '';
  const keep = (c: Buffer): void => {
    if (out.length < 64 << 10) out += c.toString();
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const spawnFailed = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`${spec.name}: ${e.message}`))));
  const peer: Peer = {
    name: spec.name,
    pid: proc.pid ?? -1,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
  };
  if (spec.readyPort !== undefined) {
    try {
      await Promise.race([
        waitForPort(spec.readyPort, spec.readyHost ?? '127.0.0.1', 15_000),
        spawnFailed,
        exited.then(() => {
          throw new Error(`${spec.name} exited during startup:\n${out}`);
        }),
      ]);
    } catch (err) {
      await peer.kill();
      throw err;
    }
  }
  return peer;
}
