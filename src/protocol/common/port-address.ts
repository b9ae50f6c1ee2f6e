import { isIP } from 'node:net';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { formatIPv6, ipWords, wordsFromBytes } from '../../common/cidr.js';

/** Address types of the V2Ray family (VLESS, VMess, Mux.Cool): port first, then the address. */
export const ATYP = { IPV4: 1, DOMAIN: 2, IPV6: 3 } as const;

/** A decoded value and how many bytes it took. */
export interface Decoded<T> {
  readonly value: T;
  readonly length: number;
}

/** The encoded size of `a` in the port-then-address form (for one allocation up front). */
export function portAddressSize(a: Address): number {
  const words = ipWords(a.host);
  if (words) return 3 + words.length * 4;
  return 4 + Buffer.byteLength(a.host, 'utf8');
}

/**
 * Writes PORT(2) ATYP ADDR at `at`; returns the offset after it. IPv4-mapped IPv6 is written as
 * IPv4. A domain longer than 255 bytes is a PROTOCOL error (the length is one byte).
 */
export function writePortAddress(out: Buffer, at: number, a: Address): number {
  out.writeUInt16BE(a.port & 0xffff, at);
  const words = ipWords(a.host);
  if (words) {
    out[at + 2] = words.length === 1 ? ATYP.IPV4 : ATYP.IPV6;
    for (let i = 0; i < words.length; i++) out.writeUInt32BE(words[i], at + 3 + i * 4);
    return at + 3 + words.length * 4;
  }
  const n = out.write(a.host, at + 4, 'utf8');
  if (n > 255 || n === 0) throw new ProxyError('PROTOCOL', `domain name of ${n} bytes cannot be encoded`);
  out[at + 2] = ATYP.DOMAIN;
  out[at + 3] = n;
  return at + 4 + n;
}

/** PORT ATYP ADDR as a fresh buffer. */
export function encodePortAddress(a: Address): Buffer {
  const out = Buffer.allocUnsafe(portAddressSize(a));
  writePortAddress(out, 0, a);
  return out;
}

/**
 * Reads PORT ATYP ADDR at `at`. Undefined when more bytes are needed; a PROTOCOL error for an
 * unknown address type or an empty domain.
 */
export function decodePortAddress(buf: Buffer, at: number): Decoded<Address> | undefined {
  if (buf.length < at + 3) return undefined;
  const port = buf.readUInt16BE(at);
  const atyp = buf[at + 2];
  if (atyp === ATYP.IPV4) {
    if (buf.length < at + 7) return undefined;
    return { value: { host: `${buf[at + 3]}.${buf[at + 4]}.${buf[at + 5]}.${buf[at + 6]}`, port }, length: 7 };
  }
  if (atyp === ATYP.IPV6) {
    if (buf.length < at + 19) return undefined;
    return { value: { host: formatIPv6(wordsFromBytes(buf, at + 3)), port }, length: 19 };
  }
  if (atyp === ATYP.DOMAIN) {
    if (buf.length < at + 4) return undefined;
    const n = buf[at + 3];
    if (n === 0) throw new ProxyError('PROTOCOL', 'empty domain name in address');
    if (buf.length < at + 4 + n) return undefined;
    let host = buf.toString('utf8', at + 4, at + 4 + n);
    if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) host = host.slice(1, -1);
    return { value: { host, port }, length: 4 + n };
  }
  throw new ProxyError('PROTOCOL', `unknown address type ${atyp}`);
}
