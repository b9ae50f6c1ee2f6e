import { randomFillSync } from 'node:crypto';
import { ProxyError } from '../core/errors.js';

// RFC 6455 framing, as a byte stream: message boundaries mean nothing to a tunnel, so data frame
// payloads are handed on as they arrive (no reassembly, no per-message buffering).

/** Opcodes (RFC 6455 §5.2). */
export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/**
 * One whole frame: FIN set, masked with a random key when `mask` (client to server). The payload
 * is copied once into the frame; the caller's buffer is never touched.
 */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const head = 2 + lenBytes + (mask ? 4 : 0);
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x80 | opcode;
  out[1] = (mask ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  if (lenBytes === 2) out.writeUInt16BE(n, 2);
  else if (lenBytes === 8) {
    out.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  if (!mask) {
    payload.copy(out, head);
    return out;
  }
  const k = head - 4;
  randomFillSync(out, k, 4);
  const m0 = out[k], m1 = out[k + 1], m2 = out[k + 2], m3 = out[k + 3];
  let i = 0;
  // four bytes per step: the mask repeats every four bytes
  for (const end = n - 3; i < end; i += 4) {
    out[head + i] = payload[i] ^ m0;
    out[head + i + 1] = payload[i + 1] ^ m1;
    out[head + i + 2] = payload[i + 2] ^ m2;
    out[head + i + 3] = payload[i + 3] ^ m3;
  }
  for (; i < n; i++) out[head + i] = payload[i] ^ out[k + (i & 3)];
  return out;
}

/** A close frame with status 1000 (normal closure). */
export function closeFrame(mask: boolean): Buffer {
  return encodeFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]), mask);
}

/** What the reader reports besides data. */
export interface WsFrameHandler {
  /** payload bytes of data frames, in order, possibly split anywhere */
  data(payload: Buffer): void;
  /** a complete control frame (ping, pong, close), payload ≤ 125 bytes */
  control(opcode: number, payload: Buffer): void;
}

/**
 * Incremental frame parser. `masked`: whether frames must be masked (a server reading clients) or
 * must not be (a client reading servers). Throws ProxyError('PROTOCOL') on malformed input; the
 * owner then drops the connection.
 */
export class WsFrameReader {
  readonly #masked: boolean;
  /** header bytes collected so far (a header may straddle chunks) */
  #head = Buffer.alloc(14);
  #headLen = 0;
  /** payload bytes still due for the current frame; -1 while reading a header */
  #remaining = -1;
  #opcode = 0;
  #mask = Buffer.alloc(4);
  #maskPos = 0;
  /** control frame payload being collected */
  #control: Buffer[] = [];

  constructor(opts: { masked: boolean }) {
    this.#masked = opts.masked;
  }

  /** Feeds bytes read from the wire. `data` may be modified in place (unmasking). */
  feed(data: Buffer, h: WsFrameHandler): void {
    let off = 0;
    while (off < data.length) {
      if (this.#remaining < 0) {
        off = this.#readHeader(data, off, h);
        continue;
      }
      const take = Math.min(this.#remaining, data.length - off);
      const part = data.subarray(off, off + take);
      off += take;
      this.#remaining -= take;
      if (this.#masked) this.#unmask(part);
      if (this.#opcode >= 0x8) this.#control.push(part);
      else if (take > 0) h.data(part);
      if (this.#remaining === 0) this.#frameDone(h);
    }
  }

  #unmask(part: Buffer): void {
    const m = this.#mask;
    let p = this.#maskPos;
    for (let i = 0; i < part.length; i++, p = (p + 1) & 3) part[i] ^= m[p];
    this.#maskPos = p;
  }

  #frameDone(h: WsFrameHandler): void {
    this.#remaining = -1;
    if (this.#opcode >= 0x8) {
      const payload = this.#control.length === 1 ? this.#control[0] : Buffer.concat(this.#control);
      this.#control = [];
      h.control(this.#opcode, payload);
    }
  }

  /** Collects header bytes; returns the new offset. */
  #readHeader(data: Buffer, off: number, h: WsFrameHandler): number {
    const hd = this.#head;
    if (this.#headLen < 2) {
      const n = Math.min(2 - this.#headLen, data.length - off);
      data.copy(hd, this.#headLen, off, off + n);
      this.#headLen += n;
      off += n;
      if (this.#headLen < 2) return off;
    }
    const b0 = hd[0], b1 = hd[1];
    if (b0 & 0x70) throw new ProxyError('PROTOCOL', 'WebSocket frame with reserved bits set');
    const opcode = b0 & 0x0f;
    const isControl = opcode >= 0x8;
    if (isControl ? opcode > OP_PONG : opcode > OP_BINARY) throw new ProxyError('PROTOCOL', `WebSocket frame with unknown opcode ${opcode}`);
    if (isControl && !(b0 & 0x80)) throw new ProxyError('PROTOCOL', 'fragmented WebSocket control frame');
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#masked) throw new ProxyError('PROTOCOL', masked ? 'masked WebSocket frame from the server' : 'unmasked WebSocket frame from the client');
    const len7 = b1 & 0x7f;
    if (isControl && len7 > 125) throw new ProxyError('PROTOCOL', 'WebSocket control frame too long');
    const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (this.#headLen < need) {
      const n = Math.min(need - this.#headLen, data.length - off);
      data.copy(hd, this.#headLen, off, off + n);
      this.#headLen += n;
      off += n;
      if (this.#headLen < need) return off;
    }
    let len = len7;
    let p = 2;
    if (len7 === 126) {
      len = hd.readUInt16BE(2);
      p = 4;
    } else if (len7 === 127) {
      const hi = hd.readUInt32BE(2);
      // 2^53 is far past anything sane; refuse above 2^32 so the arithmetic stays exact
      if (hi !== 0) throw new ProxyError('PROTOCOL', 'WebSocket frame too long');
      len = hd.readUInt32BE(6);
      p = 10;
    }
    if (masked) {
      hd.copy(this.#mask, 0, p, p + 4);
      this.#maskPos = 0;
    }
    this.#headLen = 0;
    this.#opcode = opcode;
    this.#remaining = len;
    if (len === 0) this.#frameDone(h);
    return off;
  }
}
