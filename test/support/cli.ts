import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, as `npm test` builds it before running the tests. */
export const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** How clash-ts is started: the built CLI on this test's runtime, or a single-file binary ([path]). */
export const NODE_CLI: readonly string[] = [process.execPath, CLI];

/** A running `clash-ts` process started on a temp config. */
export interface RunningCli {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** the config file it was started on (rewrite it, then SIGHUP, to reload) */
  readonly configFile: string;
  /** every stdout line so far */
  readonly lines: string[];
  /** everything it wrote to stderr so far */
  stderr(): string;
  /** resolves with the exit code (null when a signal ended it) once it exited */
  readonly exited: Promise<number | null>;
  /** listening addresses by inbound title line, e.g. `Mixed(http+socks)` → port */
  readonly ports: Map<string, number>;
  /** waits for a stdout line matching `re` (bounded) */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after a bound) */
  stop(): Promise<number | null>;
}

/** Writes `yaml` to a temp dir and returns the file path. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-e2e-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Runs the CLI to completion (for -t, -v, --help) and returns its exit code and output. */
export function runCli(
  args: string[],
  timeoutMs = 20_000,
  command: readonly string[] = NODE_CLI,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(command[0], [...command.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`clash-ts ${args.join(' ')} did not exit in ${timeoutMs} ms`));
    }, timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How to start the CLI beyond its config. */
export interface StartOptions {
  /** RLIMIT_NOFILE for the process (started through `sh -c 'ulimit -n N; exec node …'`) */
  readonly maxFiles?: number;
  /** what runs the CLI (default: this Node on dist/main.js; the binary test passes dist/clash-ts) */
  readonly command?: readonly string[];
}

/**
 * Starts the CLI on `yaml` and waits until `expectListeners` "listening at" lines appeared.
 * Ports are read from those lines, so configs can ask for port 0.
 */
export async function startCli(yaml: string, expectListeners = 1, extraArgs: string[] = [], opts: StartOptions = {}): Promise<RunningCli> {
  const file = writeConfig(yaml);
  const command = opts.command ?? NODE_CLI;
  const argv = [...command.slice(1), '-f', file, ...extraArgs];
  const proc =
    opts.maxFiles === undefined
      ? spawn(command[0], argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      : // "$@" keeps every argument as it is; exec so the PID is the CLI's own
        spawn('sh', ['-c', `ulimit -n ${opts.maxFiles} && exec "$0" "$@"`, command[0], ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const ports = new Map<string, number>();
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  let buf = '';
  let stderr = '';
  let listenersUp!: () => void;
  const allListening = new Promise<void>((r) => (listenersUp = r));
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      const m = /msg="(.+?) proxy listening at: .*:(\d+)(?: \((.+)\))?"/.exec(line);
      if (m) ports.set(m[3] ?? m[1], Number(m[2]));
      if (ports.size >= expectListeners) listenersUp();
      for (const w of waiters) {
        if (w.re.test(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const cli: RunningCli = {
    proc,
    pid: proc.pid!,
    configFile: file,
    lines,
    stderr: () => stderr,
    exited,
    ports,
    waitForLine(re, timeoutMs = 10_000) {
      const found = lines.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.add(w);
        setTimeout(() => {
          if (waiters.delete(w)) reject(new Error(`no line matching ${re} in ${timeoutMs} ms; got:\n${lines.join('\n')}\n${stderr}`));
        }, timeoutMs).unref();
      });
    },
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  const startup = Promise.race([
    allListening,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`clash-ts did not start listening in 15 s:\n${lines.join('\n')}\n${stderr}`)), 15_000).unref()),
    exited.then((code) => {
      throw new Error(`clash-ts exited with ${code} during startup:\n${lines.join('\n')}\n${stderr}`);
    }),
  ]);
  try {
    await startup;
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return cli;
}
