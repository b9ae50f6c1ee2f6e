import { z } from 'zod';
import { boolLike, countLike, durationMsLike } from './values.js';

/** The global warm pool's settings, in the shape the transport's registry takes. */
export interface WarmPoolConfig {
  readonly enable: boolean;
  readonly min: number;
  readonly max: number;
  /** ms */
  readonly maxIdleMs: number;
}

/** Defaults (see docs/config.md, "warm-pool"): on, min 0, max 8, max-idle 3 s. */
export const WARM_POOL_CONFIG_DEFAULTS: WarmPoolConfig = { enable: true, min: 0, max: 8, maxIdleMs: 3000 };

const count = countLike.pipe(z.number().max(1024));

const objectForm = z
  .strictObject({ enable: boolLike.optional(), min: count.optional(), max: count.optional(), 'max-idle': durationMsLike.optional() })
  .refine((o) => o.min === undefined || o.max === undefined || o.min <= o.max, { message: 'min must not exceed max', path: ['min'] });

/**
 * The top-level `warm-pool:` key, a clash-ts extension: `{ enable, min, max, max-idle }` or a bare
 * boolean (shorthand for enable). Unset keys take WARM_POOL_CONFIG_DEFAULTS.
 */
export const warmPoolConfigSchema = z
  .union([boolLike.transform((enable) => ({ enable })), objectForm])
  .transform((o): WarmPoolConfig => {
    const d = WARM_POOL_CONFIG_DEFAULTS;
    const r = o as { enable?: boolean; min?: number; max?: number; 'max-idle'?: number };
    return { enable: r.enable ?? d.enable, min: r.min ?? d.min, max: r.max ?? d.max, maxIdleMs: r['max-idle'] ?? d.maxIdleMs };
  });
