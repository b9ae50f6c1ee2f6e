import { isIP } from 'node:net';
import { parseHostPort, type Address } from '../core/address.js';

/**
 * Headers that describe one hop, not the message (RFC 9110 §7.6.1, plus the Proxy-* family and
 * the non-standard Proxy-Connection): a proxy must not forward them. Transfer-Encoding is
 * handled by node:http on each side, so it is dropped here too.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** What an Upgrade request loses: only the proxy's own headers. */
const PROXY_ONLY = new Set(['proxy-connection', 'proxy-authenticate', 'proxy-authorization']);

/**
 * Filters a flat `[name, value, name, value…]` list (node's `rawHeaders`) down to the end-to-end
 * headers, keeping names' case, order and duplicates (Set-Cookie). Also drops every header the
 * Connection header names. With `upgrade` only the Proxy-* headers go: after the handshake the
 * connection is the origin's, so Connection, Upgrade and what they name (HTTP2-Settings…) stay.
 */
export function endToEndHeaders(raw: readonly string[], upgrade = false): string[] {
  const out: string[] = [];
  if (upgrade) {
    for (let i = 0; i + 1 < raw.length; i += 2) if (!PROXY_ONLY.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
    return out;
  }
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1].split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '') named.add(t);
    }
  }
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** Removes every `name` (lower-case) entry from a flat header list, in place. */
export function removeHeader(flat: string[], name: string): void {
  for (let i = flat.length - 2; i >= 0; i -= 2) if (flat[i].toLowerCase() === name) flat.splice(i, 2);
}

/** The parts of an absolute-form request target a forwarding proxy needs. */
export interface ForwardTarget {
  /** where to connect: a domain (trailing dot trimmed, as mihomo) or an unbracketed IP literal */
  readonly address: Address;
  /** origin-form path for the upstream request line: `/path?query` */
  readonly path: string;
  /** the authority as the URL spelled it, for a Host header when the client sent none */
  readonly authority: string;
}

/**
 * Parses an absolute-form target (`http://host[:port]/path?q`). Returns undefined for
 * origin-form (`/path`), other schemes, or malformed authorities: the proxy answers those with
 * 400. The path is kept byte for byte (no URL normalisation: `/a/../b` is the origin's business).
 */
export function parseForwardTarget(url: string | undefined): ForwardTarget | undefined {
  if (url === undefined || url.length < 8 || url.slice(0, 7).toLowerCase() !== 'http://') return undefined;
  const rest = url.slice(7);
  let end = rest.search(/[/?#]/);
  if (end < 0) end = rest.length;
  let authority = rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1); // userinfo is not for the origin
  let path = rest.slice(end);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path === '' || path[0] === '?') path = `/${path}`;
  const address = parseAuthority(authority);
  return address === undefined ? undefined : { address, path, authority };
}

const REG_NAME = /^[A-Za-z0-9._~!$&'()*+,;=%-]+$/;

/** `host`, `host:port`, `[v6]`, `[v6]:port` → Address (default port 80); undefined if malformed. */
function parseAuthority(authority: string): Address | undefined {
  let host: string;
  let port = 80;
  if (authority.startsWith('[') && authority.endsWith(']')) {
    host = authority.slice(1, -1);
    if (isIP(host) !== 6) return undefined;
  } else if (authority.startsWith('[') || authority.includes(':')) {
    const a = parseHostPort(authority);
    if (a === undefined) return undefined;
    host = a.host;
    port = a.port;
  } else {
    host = authority;
  }
  if (isIP(host) === 0) {
    host = host.replace(/\.+$/, ''); // trailing dot of an FQDN (mihomo trims it too)
    if (!REG_NAME.test(host)) return undefined;
  }
  if (port === 0) return undefined;
  return { host, port };
}

/** Parses a CONNECT target (`host:port`, `[v6]:port`); undefined when malformed or port 0. */
export function parseConnectTarget(target: string | undefined): Address | undefined {
  if (target === undefined) return undefined;
  const a = parseHostPort(target);
  if (a === undefined || a.host === '' || a.port === 0) return undefined;
  const host = isIP(a.host) ? a.host : a.host.replace(/\.+$/, '');
  return host === '' ? undefined : { host, port: a.port };
}
