import { isIP } from 'node:net';

/** A destination or source: `host` is a domain name or an IP literal (IPv6 without brackets). */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Strips the IPv4-mapped prefix dual-stack sockets report (`::ffff:1.2.3.4` → `1.2.3.4`). */
export function unmapIPv4(ip: string): string {
  return ip.length > 7 && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** `host:port`, with brackets around IPv6 literals, as mihomo prints addresses. */
export function formatAddress(a: Address): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** True for a valid TCP/UDP port number (1..65535). */
export function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n < 65536;
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (empty host → `defaultHost`).
 * Returns undefined when the text is not an address.
 */
export function parseHostPort(text: string, defaultHost = ''): Address | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (isIP(host) !== 6) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return undefined; // bare IPv6 needs brackets
  }
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host: host === '' ? defaultHost : host, port };
}
