import { isIP } from 'node:net';
import { ipWords } from '../common/cidr.js';
import type { Address } from '../core/address.js';
import { errorMessage } from '../core/errors.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress, type Decoded } from '../protocol/common/socks-address.js';

/**
 * SOCKS4/4a and SOCKS5 (RFC 1928, RFC 1929) wire format, server side: pure functions on Buffers.
 * Parsers take everything received so far and answer `more` (wait for bytes), `bad` (close),
 * or `ok` with the value and how many bytes it used; a handshake is re-parsed as bytes arrive,
 * which is cheap for messages of at most a few hundred bytes.
 */
export type Parsed<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly length: number }
  | { readonly kind: 'more' }
  | { readonly kind: 'bad'; readonly reason: string; /** the SOCKS5 REP to answer with, if any */ readonly reply?: number };

/** SOCKS5 authentication methods and commands, and the REP codes of RFC 1928 §6. */
export const SOCKS5 = {
  VERSION: 5,
  METHOD_NONE: 0x00,
  METHOD_USERPASS: 0x02,
  METHOD_UNACCEPTABLE: 0xff,
  CMD_CONNECT: 1,
  CMD_BIND: 2,
  CMD_UDP_ASSOCIATE: 3,
  REP_SUCCEEDED: 0x00,
  REP_GENERAL_FAILURE: 0x01,
  REP_NOT_ALLOWED: 0x02,
  REP_NETWORK_UNREACHABLE: 0x03,
  REP_HOST_UNREACHABLE: 0x04,
  REP_CONNECTION_REFUSED: 0x05,
  REP_TTL_EXPIRED: 0x06,
  REP_COMMAND_NOT_SUPPORTED: 0x07,
  REP_ADDRESS_NOT_SUPPORTED: 0x08,
} as const;

/** SOCKS4 version byte, command and reply codes. */
export const SOCKS4 = {
  VERSION: 4,
  CMD_CONNECT: 1,
  GRANTED: 0x5a,
  REJECTED: 0x5b,
  /** "client program and identd report different user-ids": the answer to a bad user id */
  USER_MISMATCH: 0x5d,
} as const;

/** A SOCKS4 user id or 4a host name longer than this is refused (the protocol sets no limit). */
export const SOCKS4_MAX_FIELD = 255;

const MORE = { kind: 'more' } as const;

function bad(reason: string, reply?: number): Parsed<never> {
  return { kind: 'bad', reason, reply };
}

/** The method selection message: VER NMETHODS METHODS… */
export function parseGreeting(buf: Buffer): Parsed<{ readonly methods: Buffer }> {
  if (buf.length < 2) return MORE;
  if (buf[0] !== SOCKS5.VERSION) return bad(`SOCKS version ${buf[0]}`);
  const n = buf[1];
  if (n === 0) return bad('no authentication methods offered');
  if (buf.length < 2 + n) return MORE;
  return { kind: 'ok', value: { methods: buf.subarray(2, 2 + n) }, length: 2 + n };
}

/** RFC 1929 username/password request: VER(1) ULEN UNAME PLEN PASSWD. */
export function parseUserPass(buf: Buffer): Parsed<{ readonly username: string; readonly password: string }> {
  if (buf.length < 2) return MORE;
  if (buf[0] !== 1) return bad(`user/password auth version ${buf[0]}`);
  const ulen = buf[1];
  if (buf.length < 3 + ulen) return MORE;
  const plen = buf[2 + ulen];
  const total = 3 + ulen + plen;
  if (buf.length < total) return MORE;
  return {
    kind: 'ok',
    value: { username: buf.toString('utf8', 2, 2 + ulen), password: buf.toString('utf8', 3 + ulen, total) },
    length: total,
  };
}

/**
 * ATYP ADDR PORT at `offset` (the SOCKS5 address form, also used in UDP headers), read by the
 * one address codec (protocol/common/socks-address.ts); its PROTOCOL errors answer REP 8.
 */
export function parseAddress(buf: Buffer, offset: number): Parsed<Address> {
  let a: Decoded<Address> | undefined;
  try {
    a = readSocksAddress(buf, offset);
  } catch (err) {
    return bad(errorMessage(err), SOCKS5.REP_ADDRESS_NOT_SUPPORTED);
  }
  return a === undefined ? MORE : { kind: 'ok', value: a.value, length: a.length };
}

/** The SOCKS5 request: VER CMD RSV ATYP DST.ADDR DST.PORT. */
export function parseRequest(buf: Buffer): Parsed<{ readonly command: number; readonly address: Address }> {
  if (buf.length < 4) return MORE;
  if (buf[0] !== SOCKS5.VERSION) return bad(`SOCKS version ${buf[0]} in request`);
  const addr = parseAddress(buf, 3);
  if (addr.kind !== 'ok') return addr;
  return { kind: 'ok', value: { command: buf[1], address: addr.value }, length: 3 + addr.length };
}

/** Reads a NUL-terminated field of at most SOCKS4_MAX_FIELD bytes starting at `from`. */
function nulField(buf: Buffer, from: number): Parsed<string> {
  const end = buf.indexOf(0, from);
  if (end < 0) return buf.length - from > SOCKS4_MAX_FIELD ? bad('SOCKS4 field too long') : MORE;
  if (end - from > SOCKS4_MAX_FIELD) return bad('SOCKS4 field too long');
  return { kind: 'ok', value: buf.toString('utf8', from, end), length: end + 1 - from };
}

/**
 * SOCKS4 / 4a request: VN CD DSTPORT DSTIP USERID NUL [HOST NUL when DSTIP is 0.0.0.x, x ≠ 0].
 */
export function parseSocks4Request(
  buf: Buffer,
): Parsed<{ readonly command: number; readonly address: Address; readonly userId: string }> {
  if (buf.length < 8) return MORE;
  if (buf[0] !== SOCKS4.VERSION) return bad(`SOCKS version ${buf[0]}`);
  const user = nulField(buf, 8);
  if (user.kind !== 'ok') return user;
  const port = buf.readUInt16BE(2);
  let length = 8 + user.length;
  let host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  if (buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0) {
    const name = nulField(buf, length);
    if (name.kind !== 'ok') return name;
    if (name.value === '') return bad('SOCKS4a empty host name');
    host = name.value;
    length += name.length;
  }
  return { kind: 'ok', value: { command: buf[1], address: { host, port }, userId: user.value }, length };
}

/** VER REP RSV BND.ADDR BND.PORT */
export function encodeReply(rep: number, bind: Address): Buffer {
  const out = Buffer.allocUnsafe(3 + socksAddressSize(bind));
  writeSocksAddress(out, 3, bind);
  out[0] = SOCKS5.VERSION;
  out[1] = rep;
  out[2] = 0;
  return out;
}

/** SOCKS4 reply: 0x00 CD DSTPORT DSTIP (the request's port and IP echoed, as common servers do). */
export function encodeSocks4Reply(code: number, port: number, ipv4: string): Buffer {
  const out = Buffer.alloc(8);
  out[1] = code;
  out.writeUInt16BE(port & 0xffff, 2);
  const w = isIP(ipv4) === 4 ? ipWords(ipv4) : undefined;
  if (w) out.writeUInt32BE(w[0], 4);
  return out;
}

/** A parsed SOCKS5 UDP request header: RSV(2) FRAG ATYP DST.ADDR DST.PORT, then the payload. */
export interface UdpHeader {
  readonly frag: number;
  readonly address: Address;
  /** where the payload starts in the datagram */
  readonly payloadOffset: number;
}

/** Parses a datagram's SOCKS5 UDP header; undefined when it is malformed or truncated. */
export function decodeUdpHeader(dgram: Buffer): UdpHeader | undefined {
  if (dgram.length < 4 || dgram[0] !== 0 || dgram[1] !== 0) return undefined;
  const addr = parseAddress(dgram, 3);
  if (addr.kind !== 'ok') return undefined;
  return { frag: dgram[2], address: addr.value, payloadOffset: 3 + addr.length };
}

/** RSV RSV FRAG(0) ATYP ADDR PORT: the header to prepend to a datagram sent to the client. */
export function encodeUdpHeader(from: Address): Buffer {
  const out = Buffer.allocUnsafe(3 + socksAddressSize(from));
  writeSocksAddress(out, 3, from);
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  return out;
}
