import type { FrameCodec, FrameSink } from '../framed-duplex.js';
import { MUX_HEAD, MUX_NETWORK, MUX_OPTION_DATA, MUX_STATUS, muxControlFrame, muxDataLength, muxPrefixLength, writeMuxHead } from '../mux-cool-frame.js';

// v2ray's Mux.Cool (the frame format is mux-cool-frame.ts), reduced to the one sub-connection
// v2ray-plugin's client opens per connection (as mihomo's client does): a New frame naming
// 127.0.0.1:0 (v2ray-plugin's server forwards to its own fixed remote whatever the frame
// names), Keep frames with data, an End frame for end of stream.

const MAX_DATA = 0xffff;
/** NETWORK PORT(2) ATYP IPv4(4): TCP to 127.0.0.1:0 in the V2Ray address form */
const NEW_TARGET = [MUX_NETWORK.TCP, 0, 0, 0x01, 127, 0, 0, 1];

/** The New frame: session `id`, TCP to 127.0.0.1:0, no data. */
export function newFrame(id: number): Buffer {
  const out = Buffer.allocUnsafe(MUX_HEAD + NEW_TARGET.length);
  const at = writeMuxHead(out, 0, id, MUX_STATUS.NEW, 0, NEW_TARGET.length);
  for (let i = 0; i < NEW_TARGET.length; i++) out[at + i] = NEW_TARGET[i];
  return out;
}

/** Keep frames carrying `data` (split at 65535 bytes), in one buffer. */
export function keepFrames(id: number, data: Buffer): Buffer {
  const n = Math.max(1, Math.ceil(data.length / MAX_DATA));
  const out = Buffer.allocUnsafe(data.length + (MUX_HEAD + 2) * n);
  let o = 0;
  for (let i = 0; i === 0 || i < data.length; i += MAX_DATA) {
    const len = Math.min(MAX_DATA, data.length - i);
    o = writeMuxHead(out, o, id, MUX_STATUS.KEEP, MUX_OPTION_DATA, 0);
    out.writeUInt16BE(len, o);
    data.copy(out, o + 2, i, i + len);
    o += 2 + len;
  }
  return out;
}

/** The End frame of session `id`. */
export function endFrame(id: number): Buffer {
  return muxControlFrame(id, MUX_STATUS.END);
}

const EMPTY = Buffer.alloc(0);

/** One Mux.Cool sub-connection as a FrameCodec (client side). */
export class MuxCoolClientCodec implements FrameCodec {
  readonly #id: number;
  #opened = false;
  /** the prefix of a frame split across reads (meta length, meta, data length) */
  #buf: Buffer = EMPTY;
  /** data bytes left in the current frame */
  #remaining = 0;
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
        continue;
      }
      if (this.#buf.length === 0) {
        // the usual case: the whole prefix is in this read, parsed in place
        const need = muxPrefixLength(data, off);
        if (need <= data.length - off) {
          this.#frame(data, off, sink);
          off += need;
          continue;
        }
      }
      // a prefix split across reads (at most 2 + 512 + 2 bytes): collect it whole
      const need = muxPrefixLength(this.#buf, 0);
      const take = Math.min(need - this.#buf.length, data.length - off);
      this.#buf = Buffer.concat([this.#buf, data.subarray(off, off + take)]);
      off += take;
      if (muxPrefixLength(this.#buf, 0) <= this.#buf.length) {
        this.#frame(this.#buf, 0, sink);
        this.#buf = EMPTY;
      }
    }
  }

  /** The frame whose complete prefix starts at `at` in `b`. */
  #frame(b: Buffer, at: number, sink: FrameSink): void {
    this.#mine = b.readUInt16BE(at + 2) === this.#id;
    if (b[at + 4] === MUX_STATUS.END && this.#mine) sink.eof();
    this.#remaining = muxDataLength(b, at);
  }
}
