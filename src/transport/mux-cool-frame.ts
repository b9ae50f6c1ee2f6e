import { ProxyError } from '../core/errors.js';

/**
 * v2ray's Mux.Cool frame, the one format under XUDP (VLESS, VMess: protocol/common/xudp.ts)
 * and v2ray-plugin's mux (plugin/mux-cool.ts):
 *
 *   META_LEN(2) META DATA_LEN(2) DATA     — DATA_LEN and DATA only when OPTION has Data
 *   META = SESSION(2) STATUS OPTION [NETWORK PORT(2) ATYP ADDR (New; Keep in XUDP)] [extra]
 *
 * This file knows the framing only; what follows OPTION in the metadata (the V2Ray-style
 * address) is written and read by the callers. Lives in transport/ because the plugin is a
 * transport; protocols import it from here.
 */

/** Frame statuses. */
export const MUX_STATUS = { NEW: 1, KEEP: 2, END: 3, KEEP_ALIVE: 4 } as const;
/** OPTION bits: the frame carries data; the session ended in error. */
export const MUX_OPTION_DATA = 0x01;
export const MUX_OPTION_ERROR = 0x02;
/** The NETWORK byte of a New (or XUDP Keep) frame. */
export const MUX_NETWORK = { TCP: 1, UDP: 2 } as const;
/** v2ray refuses metadata longer than this; so do we. */
export const MUX_MAX_META = 512;
/** META_LEN SESSION STATUS OPTION: the bytes before any address. */
export const MUX_HEAD = 6;

/**
 * Writes META_LEN SESSION STATUS OPTION at `at`, for metadata of 4 + `extraMeta` bytes (the
 * caller writes those next); returns the offset after OPTION.
 */
export function writeMuxHead(out: Buffer, at: number, session: number, status: number, option: number, extraMeta: number): number {
  out.writeUInt16BE(4 + extraMeta, at);
  out.writeUInt16BE(session & 0xffff, at + 2);
  out[at + 4] = status;
  out[at + 5] = option;
  return at + MUX_HEAD;
}

/** A frame without data and without extra metadata (END, KEEP_ALIVE) as a new buffer. */
export function muxControlFrame(session: number, status: number, option = 0): Buffer {
  const out = Buffer.allocUnsafe(MUX_HEAD);
  writeMuxHead(out, 0, session, status, option, 0);
  return out;
}

/**
 * How many bytes of the frame at `at` come before its data (META_LEN, META, and DATA_LEN when
 * OPTION has Data), as far as the bytes present tell: 2 until META_LEN is there, then
 * 2 + META_LEN until OPTION is, then the full prefix. A META_LEN outside 4..512 or an unknown
 * status is a PROTOCOL error.
 */
export function muxPrefixLength(buf: Buffer, at: number): number {
  if (buf.length - at < 2) return 2;
  const metaLen = buf.readUInt16BE(at);
  if (metaLen < 4 || metaLen > MUX_MAX_META) throw new ProxyError('PROTOCOL', `Mux.Cool metadata length ${metaLen}`);
  if (buf.length - at < 2 + metaLen) return 2 + metaLen;
  const status = buf[at + 4];
  if (status < MUX_STATUS.NEW || status > MUX_STATUS.KEEP_ALIVE) throw new ProxyError('PROTOCOL', `Mux.Cool frame status ${status}`);
  return buf[at + 5] & MUX_OPTION_DATA ? 4 + metaLen : 2 + metaLen;
}

/** The data length of the frame at `at`, whose prefix {@link muxPrefixLength} found complete. */
export function muxDataLength(buf: Buffer, at: number): number {
  return buf[at + 5] & MUX_OPTION_DATA ? buf.readUInt16BE(at + 2 + buf.readUInt16BE(at)) : 0;
}
