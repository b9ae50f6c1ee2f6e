import { randomInt } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';

/** SIP022 header types: client→server streams/packets carry 0, server→client 1. */
export const HEADER_CLIENT = 0;
export const HEADER_SERVER = 1;
/** Largest padding SIP022 allows. */
export const MAX_PADDING = 900;
/** Messages whose timestamp is further than this from our clock are replays (SIP022 §3.1.3). */
export const MAX_TIME_DIFF_S = 30;
/** type + timestamp + length */
export const REQUEST_FIXED_SIZE = 1 + 8 + 2;

/** Seconds since the epoch, as SIP022 timestamps count. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Throws PROTOCOL when a peer's u64 timestamp (at `at`) is off by more than 30 s. */
export function checkTimestamp(buf: Buffer, at: number): void {
  const ts = Number(buf.readBigUInt64BE(at));
  const diff = Math.abs(nowSeconds() - ts);
  if (!(diff <= MAX_TIME_DIFF_S)) throw new ProxyError('PROTOCOL', `timestamp off by ${diff} s (replay, or a clock out of sync)`);
}

/** Writes the u64 big-endian timestamp `now` at `at`. */
export function writeTimestamp(buf: Buffer, at: number): void {
  buf.writeBigUInt64BE(BigInt(nowSeconds()), at);
}

/**
 * The request's variable-length header before its initial payload: ATYP ADDR PORT, padding
 * length, padding. Padding (1..900 random bytes, zeros here since the AEAD hides them) is added
 * when the initial payload is short, so the first packet's size says little (sing does the same).
 */
export function requestVariableHead(dest: Address, payloadLength: number): Buffer {
  const padding = payloadLength < MAX_PADDING ? randomInt(1, MAX_PADDING + 1) : 0;
  const head = Buffer.alloc(socksAddressSize(dest) + 2 + padding);
  const at = writeSocksAddress(head, 0, dest);
  head.writeUInt16BE(padding, at);
  return head;
}

/** The request fixed-length header: type 0, timestamp, length of the variable header. */
export function requestFixedHeader(variableLength: number): Buffer {
  const h = Buffer.allocUnsafe(REQUEST_FIXED_SIZE);
  h[0] = HEADER_CLIENT;
  writeTimestamp(h, 1);
  h.writeUInt16BE(variableLength, 9);
  return h;
}

/** Validates a request fixed header; returns the variable header's length. */
export function parseRequestFixed(h: Buffer): number {
  if (h[0] !== HEADER_CLIENT) throw new ProxyError('PROTOCOL', `bad request header type ${h[0]}`);
  checkTimestamp(h, 1);
  const n = h.readUInt16BE(9);
  if (n === 0) throw new ProxyError('PROTOCOL', 'empty request header');
  return n;
}

/** A parsed request variable header: destination and the initial payload (a view). */
export interface RequestVariable {
  readonly destination: Address;
  readonly payload: Buffer;
}

/**
 * Parses a request variable header. The address and padding must lie inside it, and a
 * request without payload must carry padding (SIP022 §3.1.3).
 */
export function parseRequestVariable(v: Buffer): RequestVariable {
  const a = readSocksAddress(v, 0);
  if (a === undefined || a.length + 2 > v.length) throw new ProxyError('PROTOCOL', 'request header too short for its address');
  const padding = v.readUInt16BE(a.length);
  const payloadAt = a.length + 2 + padding;
  if (padding > MAX_PADDING || payloadAt > v.length) throw new ProxyError('PROTOCOL', `bad padding length ${padding}`);
  if (padding === 0 && payloadAt === v.length) throw new ProxyError('PROTOCOL', 'request header with neither payload nor padding');
  return { destination: a.value, payload: v.subarray(payloadAt) };
}

/** The response fixed header: type 1, timestamp, the request's salt, first payload length. */
export function responseFixedHeader(requestSalt: Buffer, payloadLength: number): Buffer {
  const h = Buffer.allocUnsafe(1 + 8 + requestSalt.length + 2);
  h[0] = HEADER_SERVER;
  writeTimestamp(h, 1);
  requestSalt.copy(h, 9);
  h.writeUInt16BE(payloadLength, 9 + requestSalt.length);
  return h;
}

/**
 * Validates a response fixed header against the salt we sent (SIP022: the client MUST check
 * it); returns the first payload's length.
 */
export function parseResponseFixed(h: Buffer, requestSalt: Buffer): number {
  if (h[0] !== HEADER_SERVER) throw new ProxyError('PROTOCOL', `bad response header type ${h[0]}`);
  checkTimestamp(h, 1);
  if (!h.subarray(9, 9 + requestSalt.length).equals(requestSalt)) {
    throw new ProxyError('PROTOCOL', 'response header names another request salt');
  }
  return h.readUInt16BE(9 + requestSalt.length);
}
