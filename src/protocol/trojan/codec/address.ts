import { isIP } from 'node:net';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { formatIPv6, ipWords, wordsFromBytes } from '../../../common/cidr.js';

/** SOCKS5 address types, which Trojan uses: address first, then the port. */
export const SOCKS_ATYP = { IPV4: 1, DOMAIN: 3, IPV6: 4 } as const;

/** A decoded value and how many bytes it took. */
export interface Decoded<T> {
  readonly value: T;
  readonly length: number;
}

/** Encoded size of `a` as ATYP ADDR PORT. */
export function socksAddressSize(a: Address): number {
  const words = ipWords(a.host);
  return words ? 3 + words.length * 4 : 4 + Buffer.byteLength(a.host, 'utf8');
}

/**
 * Writes ATYP ADDR PORT at `at`, returns the offset after it. IPv4-mapped IPv6 goes out as
 * IPv4; a domain of 0 or more than 255 bytes is a PROTOCOL error.
 */
export function writeSocksAddress(out: Buffer, at: number, a: Address): number {
  const words = ipWords(a.host);
  let end: number;
  if (words) {
    out[at] = words.length === 1 ? SOCKS_ATYP.IPV4 : SOCKS_ATYP.IPV6;
    for (let i = 0; i < words.length; i++) out.writeUInt32BE(words[i], at + 1 + i * 4);
    end = at + 1 + words.length * 4;
  } else {
    const n = out.write(a.host, at + 2, 'utf8');
    if (n === 0 || n > 255) throw new ProxyError('PROTOCOL', `domain name of ${n} bytes cannot be encoded`);
    out[at] = SOCKS_ATYP.DOMAIN;
    out[at + 1] = n;
    end = at + 2 + n;
  }
  out.writeUInt16BE(a.port & 0xffff, end);
  return end + 2;
}

/**
 * Reads ATYP ADDR PORT at `at`: undefined when more bytes are needed, a PROTOCOL error for an
 * unknown type or an empty domain.
 */
export function decodeSocksAddress(buf: Buffer, at: number): Decoded<Address> | undefined {
  if (buf.length < at + 1) return undefined;
  const atyp = buf[at];
  let host: string;
  let end: number;
  if (atyp === SOCKS_ATYP.IPV4) {
    end = at + 5;
    if (buf.length < end + 2) return undefined;
    host = `${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}.${buf[at + 4]}`;
  } else if (atyp === SOCKS_ATYP.IPV6) {
    end = at + 17;
    if (buf.length < end + 2) return undefined;
    host = formatIPv6(wordsFromBytes(buf, at + 1));
  } else if (atyp === SOCKS_ATYP.DOMAIN) {
    if (buf.length < at + 2) return undefined;
    const n = buf[at + 1];
    if (n === 0) throw new ProxyError('PROTOCOL', 'empty domain name in address');
    end = at + 2 + n;
    if (buf.length < end + 2) return undefined;
    host = buf.toString('utf8', at + 2, end);
    if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) host = host.slice(1, -1);
  } else {
    throw new ProxyError('PROTOCOL', `unknown address type ${atyp}`);
  }
  return { value: { host, port: buf.readUInt16BE(end) }, length: end + 2 - at };
}
