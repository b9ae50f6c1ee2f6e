import { formatAddress, type Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';

/** Credentials for `Proxy-Authorization: Basic`. */
export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

/** What goes into a CONNECT request besides the destination. */
export interface ConnectRequestOptions {
  /** extra headers (mihomo `headers`); a name equal to a default one (any case) replaces it */
  readonly headers?: readonly (readonly [string, string])[];
  readonly auth?: BasicAuth;
}

/** RFC 9110 token characters: what a header name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `name` can be sent as an HTTP header name. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** True when `value` can be sent as a header value: no CR, LF or NUL (no header injection). */
export function isHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

// A destination host reaches us from clients (a SOCKS domain is any 255 bytes): anything that
// could end the request line or smuggle a header is refused.
const BAD_HOST = /[\x00-\x20\x7f]/;

/**
 * The CONNECT request for `dest`, as mihomo writes it: `CONNECT host:port HTTP/1.1` with Host,
 * User-Agent and Proxy-Connection, then the configured headers, then Proxy-Authorization.
 * mihomo sends Go's default User-Agent; so do we, so that a proxy sees the same client.
 * Throws PROTOCOL for a destination host that cannot be written into a request line.
 */
export function encodeConnectRequest(dest: Address, opts: ConnectRequestOptions = {}): Buffer {
  if (dest.host === '' || BAD_HOST.test(dest.host)) {
    throw new ProxyError('PROTOCOL', `destination host ${JSON.stringify(dest.host)} cannot be sent in an HTTP CONNECT`);
  }
  const target = formatAddress(dest);
  const headers = new Map<string, [string, string]>();
  const put = (name: string, value: string): void => {
    if (!isHeaderName(name) || !isHeaderValue(value)) throw new ProxyError('PROTOCOL', `invalid header ${JSON.stringify(name)}`);
    headers.set(name.toLowerCase(), [name, value]);
  };
  put('Host', target);
  put('User-Agent', 'Go-http-client/1.1');
  put('Proxy-Connection', 'Keep-Alive');
  for (const [name, value] of opts.headers ?? []) put(name, value);
  if (opts.auth) {
    const token = Buffer.from(`${opts.auth.username}:${opts.auth.password}`, 'utf8').toString('base64');
    put('Proxy-Authorization', `Basic ${token}`);
  }
  let text = `CONNECT ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers.values()) text += `${name}: ${value}\r\n`;
  // header values are bytes on the wire: keep UTF-8 as written in the config
  return Buffer.from(`${text}\r\n`, 'utf8');
}
