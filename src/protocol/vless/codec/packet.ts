import { ProxyError } from '../../../core/errors.js';

/**
 * Largest payload per frame when sending, as mihomo splits UDP over VLESS: bigger datagrams go
 * out as several frames (the server sees several datagrams), which is what mihomo does.
 */
export const MAX_FRAME_PAYLOAD = 8192;

/**
 * VLESS UDP (command 2) frames: LEN(2, big-endian) PAYLOAD, one per datagram, all to the
 * destination in the request header. Returns the frame buffers for `data` (split at
 * {@link MAX_FRAME_PAYLOAD}); an empty datagram yields no frame (a zero length is not sent).
 */
export function encodeLengthFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += MAX_FRAME_PAYLOAD) {
    const part = data.subarray(at, Math.min(data.length, at + MAX_FRAME_PAYLOAD));
    const frame = Buffer.allocUnsafe(2 + part.length);
    frame.writeUInt16BE(part.length, 0);
    part.copy(frame, 2);
    out.push(frame);
  }
  return out;
}

/**
 * Incremental reader of LEN PAYLOAD frames from a byte stream. Frames up to 65535 bytes are
 * accepted (servers may send whole datagrams); a zero-length frame is skipped. Keeps at most
 * one partial frame buffered.
 */
export class LengthFrameDecoder {
  #pending: Buffer | undefined;

  /** Feeds stream bytes; returns the complete payloads (views into the input where possible). */
  push(chunk: Buffer): Buffer[] {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    const out: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= 2) {
      const n = buf.readUInt16BE(at);
      if (buf.length - at - 2 < n) break;
      if (n > 0) out.push(buf.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
    return out;
  }

  /** Bytes of an unfinished frame; non-zero at stream end means a truncated frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  /** Throws if the stream ended inside a frame. */
  finish(): void {
    if (this.buffered > 0) throw new ProxyError('PROTOCOL', `stream ended inside a UDP frame (${this.buffered} bytes)`);
  }
}
