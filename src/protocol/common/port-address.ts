import type { Address } from '../../core/address.js';
import { hostFieldLength, hostFieldSize, hostFieldText, V2RAY_FAMILIES, writeHostField, type Decoded } from './socks-address.js';

export type { Decoded } from './socks-address.js';

/** Address types of the V2Ray family (VLESS, VMess, Mux.Cool): port first, then the address. */
export const ATYP = { IPV4: V2RAY_FAMILIES.ipv4, DOMAIN: V2RAY_FAMILIES.domain, IPV6: V2RAY_FAMILIES.ipv6 } as const;

/**
 * The V2Ray family's PORT(2) ATYP ADDR, with the host field and the semantics of
 * socks-address.ts (IPv4-mapped IPv6 as IPv4 both ways, `[::1]` encoded as IPv6, an IP literal
 * in a domain field decoded as that IP).
 */

/** The encoded size of `a` in the port-then-address form (for one allocation up front). */
export function portAddressSize(a: Address): number {
  return 2 + hostFieldSize(a.host);
}

/**
 * Writes PORT(2) ATYP ADDR at `at`; returns the offset after it. A domain of 0 or more than
 * 255 bytes is a PROTOCOL error (the length is one byte).
 */
export function writePortAddress(out: Buffer, at: number, a: Address): number {
  out.writeUInt16BE(a.port & 0xffff, at);
  return writeHostField(out, at + 2, a.host, V2RAY_FAMILIES);
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
  const n = hostFieldLength(buf, at + 2, V2RAY_FAMILIES);
  if (n === undefined) return undefined;
  return { value: { host: hostFieldText(buf, at + 2, V2RAY_FAMILIES), port: buf.readUInt16BE(at) }, length: 2 + n };
}
