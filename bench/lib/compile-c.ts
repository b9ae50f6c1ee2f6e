import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Compiles one C source of the bench with the machine's gcc (-O2) into `dir/name`, unless the
 * binary there is newer than the source; returns the binary's path.
 */
export function compileC(source: string, dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, name);
  let fresh = false;
  try {
    fresh = statSync(bin).mtimeMs > statSync(source).mtimeMs;
  } catch {
    fresh = false;
  }
  if (!fresh) execFileSync('gcc', ['-O2', '-Wall', '-o', bin, source], { stdio: 'inherit' });
  return bin;
}
