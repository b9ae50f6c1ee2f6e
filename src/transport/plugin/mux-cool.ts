import { ProxyError } from '../../core/errors.js';
import type { FrameCodec, FrameSink } from '../framed-duplex.js';

// v2ray's Mux.Cool, reduced to the one sub-connection v2ray-plugin's client opens per
// connection (as mihomo's client does): a New frame naming 127.0.0.1:0 (v2ray-plugin's server
// forwards to its own fixed remote whatever the frame names), Keep frames with data, an End
// frame for end of stream. Frame: u16 metadata length, metadata (u16 session id, status,
// option, [network, u16 port, address] for New), then u16 length + data when option has Data.

const STATUS_NEW = 0x01;
const STATUS_KEEP = 0x02;
const STATUS_END = 0x03;
const STATUS_KEEPALIVE = 0x04;
const OPTION_DATA = 0x01;
const MAX_DATA = 0xffff;
const MAX_META = 512;

/** The New frame: session `id`, TCP to 127.0.0.1:0, no data. */
export function newFrame(id: number): Buffer {
  // meta: id(2) status option network port(2) addrType ipv4(4) = 12 bytes
  return Buffer.from([0, 12, id >> 8, id & 0xff, STATUS_NEW, 0, 0x01, 0, 0, 0x01, 127, 0, 0, 1]);
}

/** Keep frames carrying `data` (split at 65535 bytes), in one buffer. */
export function keepFrames(id: number, data: Buffer): Buffer {
  const n = Math.max(1, Math.ceil(data.length / MAX_DATA));
  const out = Buffer.allocUnsafe(data.length + 8 * n);
  let o = 0;
  for (let i = 0; i === 0 || i < data.length; i += MAX_DATA) {
    const len = Math.min(MAX_DATA, data.length - i);
    out.writeUInt16BE(4, o);
    out.writeUInt16BE(id, o + 2);
    out[o + 4] = STATUS_KEEP;
    out[o + 5] = OPTION_DATA;
    out.writeUInt16BE(len, o + 6);
    data.copy(out, o + 8, i, i + len);
    o += 8 + len;
  }
  return out;
}

/** The End frame of session `id`. */
export function endFrame(id: number): Buffer {
  return Buffer.from([0, 4, id >> 8, id & 0xff, STATUS_END, 0]);
}

/** One Mux.Cool sub-connection as a FrameCodec (client side). */
export class MuxCoolClientCodec implements FrameCodec {
  readonly #id: number;
  #opened = false;
  /** bytes of the frame prefix being collected: meta length, meta, data length */
  #buf: Buffer = Buffer.alloc(0);
  /** data bytes left in the current frame; -1 while reading a prefix */
  #remaining = -1;
  #mine = false;

  constructor(id = 0) {
    this.#id = id;
  }

  encode(chunk: Buffer): Buffer {
    if (this.#opened) return keepFrames(this.#id, chunk);
    this.#opened = true;
    return Buffer.concat([newFrame(this.#id), keepFrames(this.#id, chunk)]);
  }

  finish(): { bytes: Buffer; endInner: boolean } {
    const end = endFrame(this.#id);
    if (this.#opened) return { bytes: end, endInner: false };
    this.#opened = true;
    return { bytes: Buffer.concat([newFrame(this.#id), end]), endInner: false };
  }

  decode(data: Buffer, sink: FrameSink): void {
    let off = 0;
    while (off < data.length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, data.length - off);
        if (this.#mine) sink.push(data.subarray(off, off + take));
        off += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#remaining = -1;
        continue;
      }
      // prefixes are small: collect them whole, then parse
      const need = this.#prefixNeed();
      const take = Math.min(need - this.#buf.length, data.length - off);
      this.#buf = Buffer.concat([this.#buf, data.subarray(off, off + take)]);
      off += take;
      if (this.#buf.length === need && this.#prefixNeed() === need) this.#frame(sink);
    }
  }

  /** How many prefix bytes the frame in #buf needs, as far as is known. */
  #prefixNeed(): number {
    const b = this.#buf;
    if (b.length < 2) return 2;
    const metaLen = b.readUInt16BE(0);
    if (metaLen < 4 || metaLen > MAX_META) throw new ProxyError('PROTOCOL', `mux: bad metadata length ${metaLen}`);
    if (b.length < 2 + metaLen) return 2 + metaLen;
    return b[5] & OPTION_DATA ? 2 + metaLen + 2 : 2 + metaLen;
  }

  #frame(sink: FrameSink): void {
    const b = this.#buf;
    this.#buf = Buffer.alloc(0);
    const metaLen = b.readUInt16BE(0);
    const id = b.readUInt16BE(2);
    const status = b[4];
    this.#mine = id === this.#id;
    if (status === STATUS_END && this.#mine) sink.eof();
    else if (status !== STATUS_NEW && status !== STATUS_KEEP && status !== STATUS_END && status !== STATUS_KEEPALIVE) {
      throw new ProxyError('PROTOCOL', `mux: unknown frame status ${status}`);
    }
    this.#remaining = b[5] & OPTION_DATA ? b.readUInt16BE(2 + metaLen) : -1;
    if (this.#remaining === 0) this.#remaining = -1;
  }
}
