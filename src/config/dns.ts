import { z } from 'zod';
import type { Issues } from './issues.js';
import { boolLike } from './values.js';

/**
 * The `dns` section. Only `enable` is read; the other keys of mihomo's DNS (nameserver,
 * enhanced-mode, fake-ip-range…) are accepted so configs load, and one warning says DNS is not
 * supported yet when it is enabled (resolution then uses the system resolver).
 */
export const dnsSchema = z
  .looseObject({ enable: boolLike.default(false) })
  .transform((r) => ({ enable: r.enable }));

/** The DNS settings clash-ts acts on. */
export type DnsConfig = z.output<typeof dnsSchema>;

/** Validates `dns`; undefined when it has errors. */
export function parseDns(raw: unknown, issues: Issues): DnsConfig | undefined {
  const r = dnsSchema.safeParse(raw ?? {});
  if (!r.success) {
    issues.zod(['dns'], r.error);
    return undefined;
  }
  if (r.data.enable) {
    issues.warn(['dns'], 'dns is not supported yet: its settings are ignored and the system resolver is used');
  }
  return r.data;
}
