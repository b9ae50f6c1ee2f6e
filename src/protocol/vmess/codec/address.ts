import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { formatIPv6, ipWords, wordsFromBytes } from '../../../common/cidr.js';

/** VMess / Mux.Cool address types (port first, then type and address). */
export const ADDR_TYPE = { IPV4: 1, DOMAIN: 2, IPV6: 3 } as const;

/** Bytes `writeAddressPort` will write for `a`. */
export function addressPortSize(a: Address): number {
  const w = ipWords(a.host);
  if (w) return 3 + w.length * 4;
  return 4 + Buffer.byteLength(a.host, 'utf8');
}

/**
 * Writes PORT(2, BE) TYPE ADDR at `at` and returns the offset after it. IPv4-mapped IPv6 goes
 * out as IPv4; a domain of 0 or more than 255 bytes is a PROTOCOL error.
 */
export function writeAddressPort(out: Buffer, at: number, a: Address): number {
  out.writeUInt16BE(a.port & 0xffff, at);
  const w = ipWords(a.host);
  if (w) {
    out[at + 2] = w.length === 1 ? ADDR_TYPE.IPV4 : ADDR_TYPE.IPV6;
    for (let i = 0; i < w.length; i++) out.writeUInt32BE(w[i], at + 3 + 4 * i);
    return at + 3 + 4 * w.length;
  }
  const n = out.write(a.host, at + 4, 'utf8');
  if (n === 0 || n > 255) throw new ProxyError('PROTOCOL', `domain name of ${n} bytes cannot be sent`);
  out[at + 2] = ADDR_TYPE.DOMAIN;
  out[at + 3] = n;
  return at + 4 + n;
}

/**
 * Reads PORT TYPE ADDR at `at`: the address and the offset after it, undefined when `b` ends
 * first, a PROTOCOL error for an unknown type.
 */
export function readAddressPort(b: Buffer, at: number): { address: Address; end: number } | undefined {
  if (b.length < at + 3) return undefined;
  const port = b.readUInt16BE(at);
  const type = b[at + 2];
  switch (type) {
    case ADDR_TYPE.IPV4:
      if (b.length < at + 7) return undefined;
      return { address: { host: `${b[at + 3]}.${b[at + 4]}.${b[at + 5]}.${b[at + 6]}`, port }, end: at + 7 };
    case ADDR_TYPE.IPV6:
      if (b.length < at + 19) return undefined;
      return { address: { host: formatIPv6(wordsFromBytes(b, at + 3)), port }, end: at + 19 };
    case ADDR_TYPE.DOMAIN: {
      if (b.length < at + 4) return undefined;
      const n = b[at + 3];
      if (b.length < at + 4 + n) return undefined;
      if (n === 0) throw new ProxyError('PROTOCOL', 'empty domain name');
      return { address: { host: b.toString('utf8', at + 4, at + 4 + n), port }, end: at + 4 + n };
    }
    default:
      throw new ProxyError('PROTOCOL', `unknown address type ${type}`);
  }
}
