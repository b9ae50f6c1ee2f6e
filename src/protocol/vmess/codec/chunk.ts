import { randomFillSync } from 'node:crypto';
import { ProxyError } from '../../../core/errors.js';
import type { ByteQueue } from './byte-queue.js';
import type { ChunkAead } from './chunk-aead.js';
import type { ShakeStream } from './shake.js';

/**
 * Largest payload we put in one chunk. v2ray itself writes ~2 KiB chunks but reads any size a
 * 16-bit length allows; mihomo writes 16 KiB, which keeps the per-chunk AEAD cost (~3 µs in
 * Node) small against the bytes it carries.
 */
export const MAX_CHUNK_PAYLOAD = 16 << 10;

/** Most global padding a chunk can carry (a 16-bit draw modulo 64). */
const MAX_PADDING = 63;

/** How one direction of a VMess body is framed (chosen from the request's option bits). */
export interface ChunkFraming {
  /** seals each payload; absent for security none (payloads go in the clear) */
  readonly aead?: ChunkAead;
  /** option M: each 16-bit length is XORed with the next SHAKE128 draw */
  readonly mask?: ShakeStream;
  /** option P: each chunk carries (draw % 64) random bytes after its payload */
  readonly padding?: ShakeStream;
  /** authenticated length: the length is itself sealed (2+16 bytes) instead of masked */
  readonly lengthAead?: ChunkAead;
}

/** Writes VMess body chunks: `len ‖ seal(payload) ‖ padding`, an empty chunk meaning EOF. */
export class ChunkWriter {
  readonly #f: ChunkFraming;
  readonly #overhead: number;
  readonly #sizeBytes: number;
  readonly #maxPad: number;

  constructor(framing: ChunkFraming) {
    this.#f = framing;
    this.#overhead = framing.aead?.overhead ?? 0;
    this.#sizeBytes = framing.lengthAead ? 2 + framing.lengthAead.overhead : 2;
    this.#maxPad = framing.padding ? MAX_PADDING : 0;
  }

  /** Upper bound of the framed size of `payloadLength` bytes in `chunks` chunks. */
  bound(payloadLength: number, chunks: number): number {
    return payloadLength + chunks * (this.#sizeBytes + this.#overhead + this.#maxPad);
  }

  /** Writes one chunk carrying `payload` (≤ 65535 - overhead - 63) at `at`; returns the end. */
  writeChunk(payload: Buffer, out: Buffer, at: number): number {
    const f = this.#f;
    // v2ray draws the padding before the length mask; both sides must draw in that order
    const pad = f.padding ? f.padding.next16() % 64 : 0;
    const size = payload.length + this.#overhead + pad;
    if (f.lengthAead) {
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE((size - 16) & 0xffff, 0);
      at = f.lengthAead.sealInto(len, out, at);
    } else {
      out.writeUInt16BE(f.mask ? (size ^ f.mask.next16()) & 0xffff : size, at);
      at += 2;
    }
    if (f.aead) at = f.aead.sealInto(payload, out, at);
    else at += payload.copy(out, at);
    if (pad > 0) {
      randomFillSync(out, at, pad);
      at += pad;
    }
    return at;
  }

  /** Frames a stream's bytes into full-size chunks, in one buffer. */
  stream(data: Buffer, prefix?: Buffer): Buffer {
    const n = Math.max(1, Math.ceil(data.length / MAX_CHUNK_PAYLOAD));
    const pre = prefix?.length ?? 0;
    const out = Buffer.allocUnsafe(pre + this.bound(data.length, n));
    if (prefix) prefix.copy(out, 0);
    let at = pre;
    for (let off = 0; off < data.length; off += MAX_CHUNK_PAYLOAD) {
      at = this.writeChunk(data.subarray(off, Math.min(data.length, off + MAX_CHUNK_PAYLOAD)), out, at);
    }
    return out.subarray(0, at);
  }

  /** One chunk holding `data` whole (a datagram), after `prefix`. */
  packet(data: Buffer, prefix?: Buffer): Buffer {
    const pre = prefix?.length ?? 0;
    const out = Buffer.allocUnsafe(pre + this.bound(data.length, 1));
    if (prefix) prefix.copy(out, 0);
    return out.subarray(0, this.writeChunk(data, out, pre));
  }

  /** The EOF chunk (an empty payload). */
  end(prefix?: Buffer): Buffer {
    return this.packet(Buffer.alloc(0), prefix);
  }
}

/** Largest datagram one chunk can carry for this framing. */
export function maxPacketPayload(f: ChunkFraming): number {
  return 0xffff - (f.aead?.overhead ?? 0) - (f.padding ? MAX_PADDING : 0);
}

/** Reads VMess body chunks from a queue; the mirror of {@link ChunkWriter}. */
export class ChunkReader {
  readonly #f: ChunkFraming;
  readonly #overhead: number;
  readonly #sizeBytes: number;
  // a length already read (the SHAKE draws for it are spent) whose chunk has not fully arrived
  #size = -1;
  #pad = 0;

  constructor(framing: ChunkFraming) {
    this.#f = framing;
    this.#overhead = framing.aead?.overhead ?? 0;
    this.#sizeBytes = framing.lengthAead ? 2 + framing.lengthAead.overhead : 2;
  }

  /**
   * The next payload from `q`: a Buffer, `null` at the EOF chunk, undefined while the chunk is
   * incomplete. A chunk that does not authenticate, or a length shorter than its overhead, is a
   * PROTOCOL error.
   */
  next(q: ByteQueue): Buffer | null | undefined {
    const f = this.#f;
    if (this.#size < 0) {
      if (q.length < this.#sizeBytes) return undefined;
      const raw = q.take(this.#sizeBytes);
      const pad = f.padding ? f.padding.next16() % 64 : 0;
      let size: number;
      if (f.lengthAead) {
        const len = f.lengthAead.open(raw);
        if (!len) throw new ProxyError('PROTOCOL', 'VMess chunk length does not authenticate');
        size = len.readUInt16BE(0) + 16;
      } else {
        size = raw.readUInt16BE(0);
        if (f.mask) size = (size ^ f.mask.next16()) & 0xffff;
      }
      if (size < this.#overhead + pad) throw new ProxyError('PROTOCOL', `VMess chunk length ${size} below its overhead`);
      this.#size = size;
      this.#pad = pad;
    }
    const size = this.#size;
    // an empty payload is EOF; like v2ray, its (tag and padding) bytes need not arrive
    if (size === this.#overhead + this.#pad) {
      this.#size = -1;
      return null;
    }
    if (q.length < size) return undefined;
    this.#size = -1;
    const body = q.take(size).subarray(0, size - this.#pad);
    if (!f.aead) return body;
    const plain = f.aead.open(body);
    if (!plain) throw new ProxyError('PROTOCOL', 'VMess chunk does not authenticate');
    return plain;
  }
}
