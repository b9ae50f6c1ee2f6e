import { execFile } from 'node:child_process';

/** What dig printed for one query: status, answers (`+short` style data), and the flags line. */
export interface DigResult {
  readonly status: string;
  readonly answers: string[];
  readonly flags: string;
  readonly raw: string;
}

/** Runs Debian's dig against 127.0.0.1:port (bounded: 2 tries of 2 s). */
export function dig(port: number, name: string, type = 'A', extra: string[] = []): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), name, type, '+time=2', '+tries=2', ...extra], { timeout: 15_000 }, (err, stdout) => {
      if (err && !stdout) return reject(err);
      const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'NONE';
      const flags = /;; flags: ([^;]*);/.exec(stdout)?.[1] ?? '';
      const answers: string[] = [];
      const section = stdout.split(';; ANSWER SECTION:\n')[1];
      if (section) {
        for (const line of section.split('\n')) {
          if (line.trim() === '') break;
          const parts = line.split(/\s+/);
          answers.push(parts.slice(4).join(' '));
        }
      }
      resolve({ status, answers, flags, raw: stdout });
    });
  });
}
