import { networkInterfaces } from 'node:os';
import { formatIPv6, ipWords } from '../common/cidr.js';
import { isOwnPort } from '../common/own-endpoints.js';
import { formatAddress } from '../core/address.js';
import type { Metadata } from '../core/metadata.js';
import type { Route } from './route.js';

/**
 * The loop guard: a connection routed to DIRECT whose destination is one of our own listening
 * ports on an address of this host (loopback, the unspecified address, or an interface's) would
 * come back into the core (a loop that eats every fd) or reach the controller through the proxy
 * (a LAN client talking to a loopback-only API). It is refused unless a rule other than MATCH
 * chose DIRECT for it: a rule that names the destination is the user's explicit permission.
 * mihomo's own detector (component/loopback) refuses a DIRECT dial whose inbound source is a
 * socket DIRECT opened; checking the destination also covers the controller.
 *
 * Cost on the hot path: one Map lookup of the destination port.
 */
export function loopRefusal(meta: Metadata, route: Route): string | undefined {
  const d = meta.destination;
  if (!isOwnPort(d.port)) return undefined;
  if (route.outbound.type !== 'Direct') return undefined;
  if (route.rule !== undefined && route.rule.type !== 'Match') return undefined;
  const host = route.ip ?? d.host;
  return isThisHost(host) ? `reject loopback connection to: ${formatAddress(d)}` : undefined;
}

let localCache: { readonly at: number; readonly ips: ReadonlySet<string> } | undefined;

/** An IP in one spelling: dotted IPv4 (also for IPv4-mapped IPv6), RFC 5952 IPv6; undefined for a name. */
function canonical(ip: string): string | undefined {
  const w = ipWords(ip);
  if (w === undefined) return undefined;
  if (w.length === 1) return `${w[0] >>> 24}.${(w[0] >>> 16) & 0xff}.${(w[0] >>> 8) & 0xff}.${w[0] & 0xff}`;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return canonical(`${w[3] >>> 24}.${(w[3] >>> 16) & 0xff}.${(w[3] >>> 8) & 0xff}.${w[3] & 0xff}`);
  return formatIPv6(w);
}

/** This host's interface addresses, re-read at most every 10 s (interfaces come and go). */
function localIps(): ReadonlySet<string> {
  const now = Date.now();
  if (localCache === undefined || now - localCache.at > 10_000) {
    const ips = new Set<string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        const c = canonical(i.address.split('%')[0]);
        if (c !== undefined) ips.add(c);
      }
    }
    localCache = { at: now, ips };
  }
  return localCache.ips;
}

/** Whether `host` names this machine: localhost, a loopback or unspecified IP, or a local one. */
export function isThisHost(host: string): boolean {
  const h = (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host).split('%')[0].toLowerCase().replace(/\.+$/, '');
  const ip = canonical(h);
  if (ip === undefined) return h === 'localhost' || h.endsWith('.localhost');
  if (ip.startsWith('127.') || ip === '0.0.0.0' || ip === '::1' || ip === '::') return true;
  return localIps().has(ip);
}
