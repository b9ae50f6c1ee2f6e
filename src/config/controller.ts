import { z } from 'zod';
import { parseHostPort } from '../core/address.js';
import type { Issues } from './issues.js';
import { boolLike, textLike, textListLike } from './values.js';

/** mihomo's defaults: every origin, and Chrome's private-network preflight answered. */
const corsSchema = z
  .object({
    'allow-origins': textListLike.optional(),
    'allow-private-network': boolLike.optional(),
  })
  .transform((c) => ({ allowOrigins: (c['allow-origins'] ?? ['*']).map((o) => o.trim()).filter((o) => o !== ''), allowPrivateNetwork: c['allow-private-network'] ?? true }));

/**
 * The REST controller keys, read by the API server (src/api/). An empty `external-controller`
 * means "no controller", as in mihomo; so does an empty `external-controller-unix`.
 */
export const controllerSchema = z
  .object({
    'external-controller': z
      .string()
      .refine((s) => s.trim() === '' || parseHostPort(s.trim()) !== undefined, {
        message: 'expected host:port (e.g. 127.0.0.1:9090 or :9090)',
      })
      .optional(),
    'external-controller-unix': z.string().optional(),
    'external-controller-cors': corsSchema.optional(),
    'external-ui': z.string().optional(),
    'external-ui-name': z.string().optional(),
    secret: textLike.default(''),
  })
  .transform((r) => ({
    externalController: r['external-controller']?.trim() || undefined,
    externalControllerUnix: r['external-controller-unix']?.trim() || undefined,
    externalControllerCors: r['external-controller-cors'] ?? { allowOrigins: ['*'], allowPrivateNetwork: true },
    externalUi: r['external-ui'] || undefined,
    externalUiName: r['external-ui-name']?.trim() || undefined,
    secret: r.secret,
  }));

/** The controller part of the general section. */
export type ControllerConfig = z.output<typeof controllerSchema>;

/** The keys this section reads. */
export const CONTROLLER_KEYS: readonly string[] = Object.keys(controllerSchema.in.shape);

/** Validates the controller keys of the top-level mapping; undefined when they have errors. */
export function parseController(top: Record<string, unknown>, issues: Issues): ControllerConfig | undefined {
  const picked: Record<string, unknown> = {};
  for (const k of CONTROLLER_KEYS) if (top[k] !== undefined) picked[k] = top[k];
  const r = controllerSchema.safeParse(picked);
  if (!r.success) {
    issues.zod([], r.error);
    return undefined;
  }
  return r.data;
}
