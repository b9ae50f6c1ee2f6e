import { z } from 'zod';
import { intLike } from './values.js';

/** The most workers a config may ask for: far past any core count a proxy host has. */
export const MAX_WORKERS = 256;

/**
 * The top-level `workers:` key, a clash-ts extension: how many node:cluster worker processes
 * serve the listeners. 1 (the default) is one process, as mihomo; 0 or `auto` means one per
 * core. A numeric string is accepted (mihomo-style weak decoding).
 */
export const workersSchema = z.preprocess(
  (v) => (typeof v === 'string' && v.trim().toLowerCase() === 'auto' ? 0 : v),
  intLike.pipe(z.number().min(0, { message: "expected a worker count or 'auto'" }).max(MAX_WORKERS)),
);

/** Resolves a `workers` value (0 = auto) to a process count for a machine with `cores` cores. */
export function workerCount(workers: number, cores: number): number {
  return workers === 0 ? Math.max(1, cores) : workers;
}
