import { isIP } from 'node:net';
import { unmapIPv4 } from '../core/address.js';
import type { Metadata } from '../core/metadata.js';

/**
 * The host that domain rules look at, as mihomo's `RuleHost()`: the destination domain in lower
 * case, or '' when the destination is an IP literal (mihomo keeps no host then, so a domain rule
 * never matches an IP destination, except the degenerate empty payloads that match ''). A host
 * the sniffer read (`sniffHost`) comes first, as mihomo's.
 */
export function ruleHost(meta: Metadata): string {
  const host = meta.sniffHost ?? meta.destination.host;
  return literalIp(host) === undefined ? host.toLowerCase() : '';
}

/**
 * The IP literal in `host` (IPv4-mapped IPv6 unmapped), or undefined when `host` is a domain.
 * Domains rarely end in a digit or contain ':', so most hosts skip `isIP` altogether.
 */
export function literalIp(host: string): string | undefined {
  if (host.length === 0) return undefined;
  const last = host.charCodeAt(host.length - 1);
  const digitLast = last >= 0x30 && last <= 0x39;
  if (!digitLast && !host.includes(':')) return undefined;
  return isIP(host) === 0 ? undefined : unmapIPv4(host);
}
