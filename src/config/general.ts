import { z } from 'zod';
import type { Issues } from './issues.js';
import { boolLike, cidrList, countLike, durationMsLike } from './values.js';
import { WARM_POOL_CONFIG_DEFAULTS, warmPoolConfigSchema } from './warm-pool.js';
import { workersSchema } from './workers.js';

/** The tunnel modes; YAML spells them in any case (`Rule`). */
export const MODES = ['rule', 'global', 'direct'] as const;

/** mihomo's log levels (`warning`, not `warn`). */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'silent'] as const;

const lower = (s: string) => s.trim().toLowerCase();

/** `user:pass` → user; the first colon splits, so passwords may contain colons (as mihomo). */
function splitUser(line: string): { readonly username: string; readonly password: string } | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  return { username: line.slice(0, colon), password: line.slice(colon + 1) };
}

/**
 * The general keys (mode, log level, LAN access, authentication), in mihomo's kebab-case,
 * turned into camelCase with mihomo's defaults.
 */
export const generalSchema = z
  .object({
    mode: z.string().transform(lower).pipe(z.enum(MODES)).default('rule'),
    'log-level': z.string().transform(lower).pipe(z.enum(LOG_LEVELS)).default('info'),
    ipv6: boolLike.default(true),
    'allow-lan': boolLike.default(false),
    'bind-address': z
      .string()
      .refine((s) => s === '*' || /^[\w.:%-]+$/.test(s), { message: "expected '*' or an address" })
      .default('*'),
    authentication: z.array(z.string()).default([]),
    'skip-auth-prefixes': cidrList.default([]),
    'lan-allowed-ips': cidrList.default(['0.0.0.0/0', '::/0']),
    'lan-disallowed-ips': cidrList.default([]),
    /** URL tests report the second request's time on one connection (see health/probe.ts) */
    'unified-delay': boolLike.default(false),
    /** clash-ts extension: pre-handshaken TLS connections (see config/warm-pool.ts) */
    'warm-pool': warmPoolConfigSchema.default(WARM_POOL_CONFIG_DEFAULTS),
    /** mihomo's profile: `store-selected` keeps select choices across restarts (default on); store-fake-ip is the DNS work's */
    profile: z.looseObject({ 'store-selected': boolLike.optional(), 'store-fake-ip': boolLike.optional() }).optional(),
    /** clash-ts extension: node:cluster worker processes (see config/workers.ts); 0 = one per core */
    workers: workersSchema.default(1),
    /** clash-ts extensions: concurrent connections per listener, in all / per source IP; 0 = no limit */
    'max-connections': countLike.default(0),
    'max-connections-per-ip': countLike.default(0),
    /** clash-ts extension: a relayed TCP connection with no byte either way for this long is closed; 0 = never */
    'tcp-idle-timeout': durationMsLike.default(600_000),
  })
  .transform((r) => ({
    mode: r.mode,
    logLevel: r['log-level'],
    ipv6: r.ipv6,
    allowLan: r['allow-lan'],
    bindAddress: r['bind-address'],
    authentication: r.authentication.flatMap((line) => splitUser(line) ?? []),
    skipAuthPrefixes: r['skip-auth-prefixes'].map((s) => s.trim()),
    lanAllowedIps: r['lan-allowed-ips'].map((s) => s.trim()),
    lanDisallowedIps: r['lan-disallowed-ips'].map((s) => s.trim()),
    unifiedDelay: r['unified-delay'],
    warmPool: r['warm-pool'],
    workers: r.workers,
    storeSelected: r.profile?.['store-selected'] ?? true,
    maxConnections: r['max-connections'],
    maxConnectionsPerIp: r['max-connections-per-ip'],
    tcpIdleTimeoutMs: r['tcp-idle-timeout'],
  }));

/** The general section without the controller keys. */
export type GeneralBase = z.output<typeof generalSchema>;

/** The keys this section reads. */
export const GENERAL_KEYS: readonly string[] = Object.keys(generalSchema.in.shape);

/** Validates the general keys of the top-level mapping; undefined when they have errors. */
export function parseGeneral(top: Record<string, unknown>, issues: Issues): GeneralBase | undefined {
  const picked: Record<string, unknown> = {};
  for (const k of GENERAL_KEYS) if (top[k] !== undefined) picked[k] = top[k];
  const r = generalSchema.safeParse(picked);
  if (!r.success) {
    issues.zod([], r.error);
    return undefined;
  }
  // mihomo silently skips entries without a colon; say so instead
  const auth = picked.authentication;
  if (Array.isArray(auth)) {
    auth.forEach((line, i) => {
      if (typeof line === 'string' && splitUser(line) === undefined) {
        issues.warn(['authentication', i], 'expected "user:pass", entry ignored');
      }
    });
  }
  return r.data;
}
