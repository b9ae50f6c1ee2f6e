import { formatAddress } from '../core/address.js';
import type { Metadata } from '../core/metadata.js';
import { chainText, describeRule, type Route } from './route.js';

/** `127.0.0.1:50312(DEFAULT-MIXED)`: mihomo's SourceDetail. */
export function sourceDetail(meta: Metadata): string {
  return `${formatAddress(meta.source)}(${meta.inbound.name})`;
}

/** The one info line per connection, worded as mihomo's tunnel words it. */
export function routeLine(tag: 'TCP' | 'UDP', meta: Metadata, route: Route, mode: string): string {
  const head = `[${tag}] ${sourceDetail(meta)} --> ${formatAddress(meta.destination)}`;
  if (route.rule) return `${head} match ${describeRule(route.rule)} using ${chainText(route.chains)}`;
  if (mode === 'global') return `${head} using GLOBAL`;
  if (mode === 'direct') return `${head} using DIRECT`;
  return `${head} doesn't match any rule using DIRECT`;
}

/** The warning when dialing fails, as mihomo's `dial X (match T/P) src --> dst error: …`. */
export function dialErrorLine(tag: 'TCP' | 'UDP', meta: Metadata, route: Route, message: string): string {
  const match = route.rule ? `${route.rule.type}/${route.rule.payload}` : 'None/';
  return `[${tag}] dial ${chainText(route.chains)} (match ${match}) ${sourceDetail(meta)} --> ${formatAddress(meta.destination)} error: ${message}`;
}
