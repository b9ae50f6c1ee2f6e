import type { Address } from '../../../core/address.js';
import { readSocksAddress } from '../../common/socks-address.js';

/** A decoded SOCKS5 UDP datagram: where it came from and where its payload starts. */
export interface UdpFrame {
  readonly from: Address;
  readonly payloadOffset: number;
}

/**
 * RSV(2) FRAG(0) ATYP DST.ADDR DST.PORT DATA, with the address already encoded (a session
 * keeps the encoding of its last destination, so the hot path allocates once per datagram).
 */
export function encodeUdpFrame(encodedAddress: Buffer, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(3 + encodedAddress.length + data.length);
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  encodedAddress.copy(out, 3);
  data.copy(out, 3 + encodedAddress.length);
  return out;
}

/**
 * Decodes a datagram from the relay; undefined when it is malformed, truncated or a fragment
 * (FRAG ≠ 0: fragmentation is optional in RFC 1928, and dropping fragments is what it asks of
 * an implementation without reassembly).
 */
export function decodeUdpFrame(buf: Buffer): UdpFrame | undefined {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0) return undefined;
  let addr;
  try {
    addr = readSocksAddress(buf, 3);
  } catch {
    return undefined;
  }
  if (addr === undefined) return undefined;
  return { from: addr.value, payloadOffset: 3 + addr.length };
}
