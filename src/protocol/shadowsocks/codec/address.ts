import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { formatIPv6, ipWords, wordsFromBytes } from '../../../common/cidr.js';

/** The family bytes of one address encoding: SOCKS5's, or sing's UDP-over-TCP frames'. */
export interface AddressFamilies {
  readonly ipv4: number;
  readonly domain: number;
  readonly ipv6: number;
}

/** RFC 1928 ATYP values: every Shadowsocks header (request, UDP packet) uses these. */
export const SOCKS_FAMILIES: AddressFamilies = { ipv4: 1, domain: 3, ipv6: 4 };

/** sing's UDP-over-TCP packet frames number the families 0, 1, 2 (IPv4, IPv6, domain). */
export const UOT_FAMILIES: AddressFamilies = { ipv4: 0, domain: 2, ipv6: 1 };

/** Bytes {@link writeAddress} will write for `a`. */
export function addressLength(a: Address): number {
  const words = ipWords(a.host);
  if (words) return 1 + words.length * 4 + 2;
  return 1 + 1 + Buffer.byteLength(a.host) + 2;
}

/**
 * Writes ATYP ADDR PORT for `a` at `at`; returns the offset after it. IPv4-mapped IPv6 is
 * written as IPv4. A domain over 255 bytes cannot be encoded: PROTOCOL error.
 */
export function writeAddress(out: Buffer, at: number, a: Address, fam: AddressFamilies = SOCKS_FAMILIES): number {
  const words = ipWords(a.host);
  if (words) {
    out[at++] = words.length === 1 ? fam.ipv4 : fam.ipv6;
    for (let i = 0; i < words.length; i++, at += 4) out.writeUInt32BE(words[i], at);
  } else {
    const n = out.write(a.host, at + 2, 'utf8');
    if (n > 255 || Buffer.byteLength(a.host) !== n) {
      throw new ProxyError('PROTOCOL', `domain name too long for a Shadowsocks header: ${a.host.slice(0, 40)}…`);
    }
    out[at] = fam.domain;
    out[at + 1] = n;
    at += 2 + n;
  }
  out.writeUInt16BE(a.port & 0xffff, at);
  return at + 2;
}

/** ATYP ADDR PORT for `a` as a new buffer. */
export function encodeAddress(a: Address, fam: AddressFamilies = SOCKS_FAMILIES): Buffer {
  if (Buffer.byteLength(a.host) > 255 && !ipWords(a.host)) {
    throw new ProxyError('PROTOCOL', `domain name too long for a Shadowsocks header: ${a.host.slice(0, 40)}…`);
  }
  const out = Buffer.allocUnsafe(addressLength(a));
  writeAddress(out, 0, a, fam);
  return out;
}

/** A decoded address and the offset just after it. */
export interface DecodedAddress {
  readonly address: Address;
  readonly end: number;
}

/**
 * Reads ATYP ADDR PORT at `at`. Returns undefined when `buf` ends before the address does
 * (read more); throws PROTOCOL for an unknown ATYP or an empty domain.
 */
export function readAddress(buf: Buffer, at: number, fam: AddressFamilies = SOCKS_FAMILIES): DecodedAddress | undefined {
  if (buf.length <= at) return undefined;
  const atyp = buf[at];
  let host: string;
  let p = at + 1;
  if (atyp === fam.ipv4) {
    if (buf.length < p + 6) return undefined;
    host = `${buf[p]}.${buf[p + 1]}.${buf[p + 2]}.${buf[p + 3]}`;
    p += 4;
  } else if (atyp === fam.ipv6) {
    if (buf.length < p + 18) return undefined;
    host = ipv6Host(buf, p);
    p += 16;
  } else if (atyp === fam.domain) {
    if (buf.length < p + 1) return undefined;
    const n = buf[p];
    if (n === 0) throw new ProxyError('PROTOCOL', 'empty domain name in address');
    if (buf.length < p + 1 + n + 2) return undefined;
    host = buf.toString('utf8', p + 1, p + 1 + n);
    p += 1 + n;
  } else {
    throw new ProxyError('PROTOCOL', `unknown address type ${atyp}`);
  }
  return { address: { host, port: buf.readUInt16BE(p) }, end: p + 2 };
}

/** IPv6 text of 16 bytes; an IPv4-mapped address becomes dotted IPv4, as elsewhere in the core. */
function ipv6Host(buf: Buffer, at: number): string {
  let mapped = buf[at + 10] === 0xff && buf[at + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (buf[at + i] !== 0) mapped = false;
  if (mapped) return `${buf[at + 12]}.${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}`;
  return formatIPv6(wordsFromBytes(buf, at));
}
