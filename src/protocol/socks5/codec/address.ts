import { isIP } from 'node:net';
import { formatIPv6, ipWords, wordsFromBytes } from '../../../common/cidr.js';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import type { ParseStep } from '../../common/read-message.js';

/** SOCKS5 address types (RFC 1928 §5). */
export const ATYP = { IPV4: 1, DOMAIN: 3, IPV6: 4 } as const;

/**
 * ATYP ADDR PORT for `a`: an IP literal as 4 or 16 bytes (IPv4-mapped IPv6 as IPv4), anything
 * else as a domain. Throws PROTOCOL for an empty domain or one longer than 255 bytes, which
 * SOCKS5 cannot carry.
 */
export function encodeSocksAddress(a: Address): Buffer {
  const words = isIP(a.host) !== 0 ? ipWords(a.host) : undefined;
  let out: Buffer;
  if (words) {
    out = Buffer.allocUnsafe(1 + words.length * 4 + 2);
    out[0] = words.length === 1 ? ATYP.IPV4 : ATYP.IPV6;
    for (let i = 0; i < words.length; i++) out.writeUInt32BE(words[i], 1 + i * 4);
  } else {
    const name = Buffer.from(a.host, 'utf8');
    if (name.length === 0 || name.length > 255) {
      throw new ProxyError('PROTOCOL', `domain name of ${name.length} bytes cannot be sent over SOCKS5 (1..255)`);
    }
    out = Buffer.allocUnsafe(2 + name.length + 2);
    out[0] = ATYP.DOMAIN;
    out[1] = name.length;
    name.copy(out, 2);
  }
  out.writeUInt16BE(a.port & 0xffff, out.length - 2);
  return out;
}

/** Whether the 16 bytes at `at` are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
function isMappedV4(buf: Buffer, at: number): boolean {
  for (let i = 0; i < 10; i++) if (buf[at + i] !== 0) return false;
  return buf[at + 10] === 0xff && buf[at + 11] === 0xff;
}

/**
 * Parses ATYP ADDR PORT at `at`. Undefined while truncated; throws PROTOCOL for an unknown
 * address type or an empty domain. IPv4-mapped IPv6 comes back as IPv4.
 */
export function parseSocksAddress(buf: Buffer, at: number): ParseStep<Address> {
  if (buf.length < at + 1) return undefined;
  const atyp = buf[at];
  let host: string;
  let portAt: number;
  if (atyp === ATYP.IPV4) {
    portAt = at + 5;
    if (buf.length < portAt + 2) return undefined;
    host = `${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}.${buf[at + 4]}`;
  } else if (atyp === ATYP.IPV6) {
    portAt = at + 17;
    if (buf.length < portAt + 2) return undefined;
    host = isMappedV4(buf, at + 1)
      ? `${buf[at + 13]}.${buf[at + 14]}.${buf[at + 15]}.${buf[at + 16]}`
      : formatIPv6(wordsFromBytes(buf, at + 1));
  } else if (atyp === ATYP.DOMAIN) {
    if (buf.length < at + 2) return undefined;
    const len = buf[at + 1];
    if (len === 0) throw new ProxyError('PROTOCOL', 'SOCKS5 address: empty domain name');
    portAt = at + 2 + len;
    if (buf.length < portAt + 2) return undefined;
    host = buf.toString('utf8', at + 2, portAt);
  } else {
    throw new ProxyError('PROTOCOL', `SOCKS5 address: unknown address type ${atyp}`);
  }
  return { value: { host, port: buf.readUInt16BE(portAt) }, used: portAt + 2 - at };
}
