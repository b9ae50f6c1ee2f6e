import { z } from 'zod';

/** The most workers a config may ask for: far past any core count a proxy host has. */
export const MAX_WORKERS = 256;

/**
 * The top-level `workers:` key, a clash-ts extension: how many node:cluster worker processes
 * serve the listeners. 1 (the default) is one process, as mihomo; 0 or `auto` means one per
 * core. A numeric string is accepted (mihomo-style weak decoding).
 */
export const workersSchema = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (s === 'auto') return 0;
  return /^\d+$/.test(s) ? Number(s) : v;
}, z.number({ message: "expected a worker count or 'auto'" }).int().min(0).max(MAX_WORKERS));

/** Resolves a `workers` value (0 = auto) to a process count for a machine with `cores` cores. */
export function workerCount(workers: number, cores: number): number {
  return workers === 0 ? Math.max(1, cores) : workers;
}
