import { isIP } from 'node:net';
import { formatIPv6, ipWords, wordsFromBytes } from '../../common/cidr.js';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';

/**
 * The one codec of the SOCKS-style address, ATYP ADDR PORT (RFC 1928 §5), which SOCKS5,
 * Trojan, Shadowsocks and sing's UDP-over-TCP share; the V2Ray family's port-first form
 * (port-address.ts) is built from the same host field functions.
 *
 * One semantics everywhere:
 * - an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is encoded, and decoded, as IPv4;
 * - a host given as a bracketed IP literal (`[::1]`) is encoded as that IP's bytes;
 * - a domain field holding an IP literal, bracketed or bare, decodes to that IP, unbracketed
 *   (and a mapped one as IPv4);
 * - an empty domain, one longer than 255 bytes and an unknown ATYP are PROTOCOL errors.
 */

/** The ATYP bytes of one address encoding. */
export interface AddressFamilies {
  readonly ipv4: number;
  readonly domain: number;
  readonly ipv6: number;
}

/** RFC 1928's ATYP values (SOCKS5, Trojan, every Shadowsocks header). */
export const SOCKS_FAMILIES: AddressFamilies = { ipv4: 1, domain: 3, ipv6: 4 };

/** sing's UDP-over-TCP frames number the families 0, 1, 2 (IPv4, IPv6, domain). */
export const UOT_FAMILIES: AddressFamilies = { ipv4: 0, domain: 2, ipv6: 1 };

/** The V2Ray family's numbering (VLESS, VMess, Mux.Cool): 1, 2, 3 (IPv4, domain, IPv6). */
export const V2RAY_FAMILIES: AddressFamilies = { ipv4: 1, domain: 2, ipv6: 3 };

/** A decoded value and how many bytes it took. */
export interface Decoded<T> {
  readonly value: T;
  readonly length: number;
}

/** A domain field is at most this long: its length is one byte. */
const MAX_DOMAIN = 255;

/**
 * The IP of `host` as one word (IPv4, also for IPv4-mapped IPv6) or four (IPv6); undefined for
 * a name. Brackets around an IP literal are ignored.
 */
export function hostIpWords(host: string): Uint32Array | undefined {
  const text = host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d ? host.slice(1, -1) : host;
  const w = ipWords(text);
  if (w !== undefined && w.length === 4 && w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return Uint32Array.of(w[3]);
  return w;
}

/** Bytes the host field (ATYP ADDR, no port) of `host` takes. */
export function hostFieldSize(host: string): number {
  const w = hostIpWords(host);
  return w !== undefined ? 1 + w.length * 4 : 2 + Buffer.byteLength(host, 'utf8');
}

/**
 * Writes the host field ATYP ADDR of `host` at `at`; returns the offset after it. A domain of
 * 0 or more than 255 bytes is a PROTOCOL error (nothing is written then).
 */
export function writeHostField(out: Buffer, at: number, host: string, fam: AddressFamilies): number {
  const w = hostIpWords(host);
  if (w !== undefined) {
    out[at++] = w.length === 1 ? fam.ipv4 : fam.ipv6;
    for (let i = 0; i < w.length; i++, at += 4) out.writeUInt32BE(w[i], at);
    return at;
  }
  const n = Buffer.byteLength(host, 'utf8');
  if (n === 0 || n > MAX_DOMAIN) throw new ProxyError('PROTOCOL', `domain name of ${n} bytes cannot be encoded in an address (1..255)`);
  out[at] = fam.domain;
  out[at + 1] = n;
  out.write(host, at + 2, 'utf8');
  return at + 2 + n;
}

/**
 * Bytes of the host field at `at` once `buf` holds all of it; undefined while it is
 * truncated. Throws PROTOCOL for an unknown ATYP or an empty domain.
 */
export function hostFieldLength(buf: Buffer, at: number, fam: AddressFamilies): number | undefined {
  if (buf.length <= at) return undefined;
  const atyp = buf[at];
  let n: number;
  if (atyp === fam.ipv4) n = 5;
  else if (atyp === fam.ipv6) n = 17;
  else if (atyp === fam.domain) {
    if (buf.length <= at + 1) return undefined;
    if (buf[at + 1] === 0) throw new ProxyError('PROTOCOL', 'empty domain name in address');
    n = 2 + buf[at + 1];
  } else {
    throw new ProxyError('PROTOCOL', `unknown address type ${atyp}`);
  }
  return buf.length < at + n ? undefined : n;
}

/** The host of the field at `at`, which {@link hostFieldLength} has found complete. */
export function hostFieldText(buf: Buffer, at: number, fam: AddressFamilies): string {
  const atyp = buf[at];
  if (atyp === fam.ipv4) return `${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}.${buf[at + 4]}`;
  if (atyp === fam.ipv6) return ipv6Host(buf, at + 1);
  const name = buf.toString('utf8', at + 2, at + 2 + buf[at + 1]);
  // only a field with a bracket or a colon can be an IP literal that needs rewriting
  return buf[at + 2] === 0x5b || name.includes(':') ? literalHost(name) : name;
}

/** 16 bytes at `at` as IPv6 text (RFC 5952); IPv4-mapped ones as dotted IPv4. */
function ipv6Host(buf: Buffer, at: number): string {
  let mapped = buf[at + 10] === 0xff && buf[at + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (buf[at + i] !== 0) mapped = false;
  if (mapped) return `${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
  return formatIPv6(wordsFromBytes(buf, at));
}

/** A domain field's text: an IP literal unbracketed (mapped IPv6 as IPv4), anything else as is. */
function literalHost(name: string): string {
  const inner = name.charCodeAt(0) === 0x5b && name.charCodeAt(name.length - 1) === 0x5d ? name.slice(1, -1) : name;
  const family = isIP(inner);
  if (family === 0) return name;
  if (family === 6) {
    const w = hostIpWords(inner);
    if (w !== undefined && w.length === 1) return `${w[0] >>> 24}.${(w[0] >>> 16) & 0xff}.${(w[0] >>> 8) & 0xff}.${w[0] & 0xff}`;
  }
  return inner;
}

/** Bytes {@link writeSocksAddress} writes for `a`. */
export function socksAddressSize(a: Address): number {
  return hostFieldSize(a.host) + 2;
}

/** Writes ATYP ADDR PORT for `a` at `at`; returns the offset after it. */
export function writeSocksAddress(out: Buffer, at: number, a: Address, fam: AddressFamilies = SOCKS_FAMILIES): number {
  const end = writeHostField(out, at, a.host, fam);
  out.writeUInt16BE(a.port & 0xffff, end);
  return end + 2;
}

/** ATYP ADDR PORT for `a` as a new buffer. */
export function encodeSocksAddress(a: Address, fam: AddressFamilies = SOCKS_FAMILIES): Buffer {
  const out = Buffer.allocUnsafe(socksAddressSize(a));
  writeSocksAddress(out, 0, a, fam);
  return out;
}

/**
 * Reads ATYP ADDR PORT at `at`: undefined while `buf` ends before the address does, a
 * PROTOCOL error for an unknown ATYP or an empty domain.
 */
export function readSocksAddress(buf: Buffer, at: number, fam: AddressFamilies = SOCKS_FAMILIES): Decoded<Address> | undefined {
  const n = hostFieldLength(buf, at, fam);
  if (n === undefined || buf.length < at + n + 2) return undefined;
  return { value: { host: hostFieldText(buf, at, fam), port: buf.readUInt16BE(at + n) }, length: n + 2 };
}
