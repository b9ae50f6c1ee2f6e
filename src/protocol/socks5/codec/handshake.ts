import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import type { ParseStep } from '../../common/read-message.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';

/** The SOCKS5 numbers a client needs (RFC 1928, RFC 1929). */
export const SOCKS5 = {
  VERSION: 5,
  METHOD_NONE: 0x00,
  METHOD_USERPASS: 0x02,
  METHOD_REFUSED: 0xff,
  CMD_CONNECT: 1,
  CMD_UDP_ASSOCIATE: 3,
  USERPASS_VERSION: 1,
} as const;

const REPLIES: readonly string[] = [
  'succeeded',
  'general SOCKS server failure',
  'connection not allowed by ruleset',
  'network unreachable',
  'host unreachable',
  'connection refused',
  'TTL expired',
  'command not supported',
  'address type not supported',
];

/** RFC 1928's words for a reply code: `connection refused (5)`. */
export function replyText(rep: number): string {
  return `${REPLIES[rep] ?? 'unassigned reply'} (${rep})`;
}

/** VER NMETHODS METHODS: one method, user/pass when credentials are configured, as mihomo. */
export function encodeGreeting(withAuth: boolean): Buffer {
  return Buffer.from([SOCKS5.VERSION, 1, withAuth ? SOCKS5.METHOD_USERPASS : SOCKS5.METHOD_NONE]);
}

/** The server's VER METHOD. Throws PROTOCOL when the first byte is not version 5. */
export function parseMethodChoice(buf: Buffer): ParseStep<number> {
  if (buf.length > 0 && buf[0] !== SOCKS5.VERSION) throw new ProxyError('PROTOCOL', `not a SOCKS5 server (version byte ${buf[0]})`);
  if (buf.length < 2) return undefined;
  return { value: buf[1], used: 2 };
}

/** RFC 1929 VER ULEN UNAME PLEN PASSWD. Throws PROTOCOL past 255 bytes per field. */
export function encodeUserPass(username: string, password: string): Buffer {
  const u = Buffer.from(username, 'utf8');
  const p = Buffer.from(password, 'utf8');
  if (u.length > 255 || p.length > 255) throw new ProxyError('PROTOCOL', 'SOCKS5 username and password are limited to 255 bytes each');
  const out = Buffer.allocUnsafe(3 + u.length + p.length);
  out[0] = SOCKS5.USERPASS_VERSION;
  out[1] = u.length;
  u.copy(out, 2);
  out[2 + u.length] = p.length;
  p.copy(out, 3 + u.length);
  return out;
}

/** The RFC 1929 answer VER STATUS: the status (0 = accepted). The version byte varies among
 * servers (some send 5), so it is not checked. */
export function parseAuthStatus(buf: Buffer): ParseStep<number> {
  if (buf.length < 2) return undefined;
  return { value: buf[1], used: 2 };
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT. Throws PROTOCOL for a domain SOCKS5 cannot carry. */
export function encodeRequest(cmd: number, to: Address): Buffer {
  const out = Buffer.allocUnsafe(3 + socksAddressSize(to));
  writeSocksAddress(out, 3, to);
  out[0] = SOCKS5.VERSION;
  out[1] = cmd;
  out[2] = 0;
  return out;
}

/** The server's reply to a request. */
export interface Socks5Reply {
  readonly rep: number;
  /** BND.ADDR:BND.PORT (for UDP ASSOCIATE, where to send datagrams) */
  readonly bound: Address;
}

/** VER REP RSV BND.ADDR BND.PORT. Throws PROTOCOL for a wrong version or address type. */
export function parseReply(buf: Buffer): ParseStep<Socks5Reply> {
  if (buf.length > 0 && buf[0] !== SOCKS5.VERSION) throw new ProxyError('PROTOCOL', `bad SOCKS5 reply (version byte ${buf[0]})`);
  if (buf.length < 4) return undefined;
  const addr = readSocksAddress(buf, 3);
  if (addr === undefined) return undefined;
  return { value: { rep: buf[1], bound: addr.value }, used: 3 + addr.length };
}
