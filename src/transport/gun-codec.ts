import { ProxyError } from '../core/errors.js';
import type { FrameCodec, FrameSink } from './framed-duplex.js';

// The "gun" tunnel of v2ray/xray/mihomo: every chunk is one gRPC message (a 5-byte prefix:
// compressed flag 0 and a u32 length) whose body is a protobuf message with the data in field 1
// (tag 0x0A, a varint length, the bytes). Nothing else is framed.

/** gRPC messages larger than this are refused (4 MiB is gRPC's own default limit). */
export const MAX_MESSAGE = 4 << 20;

/** Bytes of a varint for `n`. */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** One gun message carrying `data`, as one buffer. */
export function encodeGun(data: Buffer): Buffer {
  const vlen = varintLength(data.length);
  const out = Buffer.allocUnsafe(6 + vlen + data.length);
  out[0] = 0;
  out.writeUInt32BE(1 + vlen + data.length, 1);
  out[5] = 0x0a;
  let n = data.length;
  let o = 6;
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  data.copy(out, o);
  return out;
}

/** Incremental gun decoder as a FrameCodec (either end: the framing is symmetric). */
export class GunCodec implements FrameCodec {
  /** prefix bytes being collected: 5-byte gRPC prefix, tag, varint */
  #prefix = Buffer.alloc(16);
  #prefixLen = 0;
  /** payload bytes still due in this message */
  #payload = -1;
  /** bytes of the message after the payload (unknown protobuf fields: skipped) */
  #trailing = 0;

  encode(chunk: Buffer): Buffer {
    return encodeGun(chunk);
  }

  decode(data: Buffer, sink: FrameSink): void {
    let off = 0;
    while (off < data.length) {
      if (this.#payload > 0) {
        const take = Math.min(this.#payload, data.length - off);
        sink.push(data.subarray(off, off + take));
        off += take;
        this.#payload -= take;
        if (this.#payload === 0) this.#payload = -1;
        continue;
      }
      if (this.#trailing > 0) {
        const take = Math.min(this.#trailing, data.length - off);
        off += take;
        this.#trailing -= take;
        continue;
      }
      this.#prefix[this.#prefixLen++] = data[off++];
      this.#parsePrefix();
    }
  }

  /** Tries to complete the prefix collected so far. */
  #parsePrefix(): void {
    const p = this.#prefix;
    const n = this.#prefixLen;
    if (n < 6) return;
    if (p[0] !== 0) throw new ProxyError('PROTOCOL', 'gun: compressed gRPC message');
    const msgLen = p.readUInt32BE(1);
    if (msgLen > MAX_MESSAGE) throw new ProxyError('PROTOCOL', `gun: gRPC message of ${msgLen} bytes`);
    if (p[5] !== 0x0a) throw new ProxyError('PROTOCOL', `gun: unexpected protobuf tag ${p[5]}`);
    if (n === 6) return;
    if (p[n - 1] & 0x80) {
      if (n >= 6 + 5) throw new ProxyError('PROTOCOL', 'gun: varint too long');
      return;
    }
    let len = 0;
    for (let i = n - 1; i >= 6; i--) len = len * 128 + (p[i] & 0x7f);
    const overhead = n - 5;
    if (overhead + len > msgLen) throw new ProxyError('PROTOCOL', 'gun: payload longer than its gRPC message');
    this.#prefixLen = 0;
    this.#payload = len === 0 ? -1 : len;
    this.#trailing = msgLen - overhead - len;
  }
}
