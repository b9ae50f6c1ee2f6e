import { randomFillSync } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { decodePortAddress, portAddressSize, writePortAddress } from '../../common/port-address.js';

/** Request option bits (v2ray's RequestOption). */
export const OPTION = {
  CHUNK_STREAM: 0x01,
  CHUNK_MASKING: 0x04,
  GLOBAL_PADDING: 0x08,
  AUTHENTICATED_LENGTH: 0x10,
} as const;

/** Security ids on the wire. */
export const SECURITY = { AES_128_GCM: 3, CHACHA20_POLY1305: 4, NONE: 5, ZERO: 6 } as const;

/** Commands: TCP stream, UDP to one destination, Mux.Cool (XUDP rides on it). */
export const COMMAND = { TCP: 1, UDP: 2, MUX: 3 } as const;

/** The plaintext VMess request header (what the AEAD header seals). */
export interface RequestHeader {
  /** body IV (16) and key (16), chosen at random per connection */
  readonly bodyIv: Buffer;
  readonly bodyKey: Buffer;
  /** the byte the server must echo in its response header */
  readonly responseAuth: number;
  readonly option: number;
  readonly security: number;
  readonly command: number;
  /** absent for MUX */
  readonly destination?: Address;
}

/** FNV-1a 32 of `b[0..end)`. */
export function fnv1a32(b: Buffer, end: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * Encodes the request: version 1, IV, key, V, option, padding length P (high nibble) with the
 * security (low nibble), a zero byte, command, port+address (not for MUX), P random bytes, and
 * the FNV-1a of all that. `padding` (0..15) is random unless given (tests).
 */
export function encodeRequest(r: RequestHeader, padding = Math.floor(Math.random() * 16)): Buffer {
  const p = padding & 0x0f;
  const hasAddr = r.command !== COMMAND.MUX && r.destination !== undefined;
  const size = 41 + (hasAddr ? portAddressSize(r.destination!) : 0) + p + 4;
  const out = Buffer.allocUnsafe(size);
  out[0] = 1;
  r.bodyIv.copy(out, 1, 0, 16);
  r.bodyKey.copy(out, 17, 0, 16);
  out[33] = r.responseAuth;
  out[34] = r.option;
  out[35] = (p << 4) | (r.security & 0x0f);
  out[36] = 0;
  out[37] = r.command;
  let at = 38;
  if (hasAddr) at = writePortAddress(out, at, r.destination!);
  if (p > 0) randomFillSync(out, at, p);
  at += p;
  out.writeUInt32BE(fnv1a32(out, at), at);
  return out.subarray(0, at + 4);
}

/** Decodes a request header (the server side, and our tests); PROTOCOL errors say what is wrong. */
export function decodeRequest(b: Buffer): RequestHeader {
  const bad = (why: string): never => {
    throw new ProxyError('PROTOCOL', `VMess request header: ${why}`);
  };
  if (b.length < 42) bad('too short');
  if (b[0] !== 1) bad(`version ${b[0]}`);
  const p = b[35] >> 4;
  const command = b[37];
  let at = 38;
  let destination: Address | undefined;
  if (command === COMMAND.TCP || command === COMMAND.UDP) {
    const a = decodePortAddress(b, at);
    if (!a) return bad('truncated address');
    destination = a.value;
    at += a.length;
  } else if (command !== COMMAND.MUX) bad(`unknown command ${command}`);
  at += p;
  if (b.length !== at + 4) bad('length does not match its contents');
  if (fnv1a32(b, at) !== b.readUInt32BE(at)) bad('checksum mismatch');
  return {
    bodyIv: Buffer.from(b.subarray(1, 17)),
    bodyKey: Buffer.from(b.subarray(17, 33)),
    responseAuth: b[33],
    option: b[34],
    security: b[35] & 0x0f,
    command,
    destination,
  };
}
