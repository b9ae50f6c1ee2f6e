import { Duplex } from 'node:stream';
import { endBelow } from '../common/end-below.js';
import { ProxyError } from '../core/errors.js';

/** Where a codec sends what it decoded. */
export interface FrameSink {
  /** payload for our reader */
  push(payload: Buffer): void;
  /** bytes the codec must answer on the wire (a WebSocket pong, a close reply) */
  reply(bytes: Buffer): void;
  /** the peer signalled end of stream in-band (a WebSocket close frame) */
  eof(): void;
}

/** A wire format spoken over a byte stream: how our writes and the peer's bytes look on it. */
export interface FrameCodec {
  /** The wire bytes for one chunk written by our user. */
  encode(chunk: Buffer): Buffer | readonly Buffer[];
  /** Decodes bytes read from the wire; throws ProxyError on malformed input. */
  decode(data: Buffer, sink: FrameSink): void;
  /**
   * Our user ended: bytes to send last (a close frame) and whether to half-close the stream
   * below now. A codec whose protocol has its own closing handshake keeps it open and lets the
   * peer close it.
   */
  finish?(): { readonly bytes?: Buffer; readonly endInner: boolean };
}

/** How a FramedDuplex starts. */
export interface FramedOptions {
  /** bytes already read from the wire past a handshake, decoded first */
  readonly leftover?: Buffer;
  /**
   * A handshake deferred to the first write (early data): gets that chunk (undefined when the
   * user ends without writing), sends it however the protocol wants, resolves with the bytes
   * read past the peer's answer. Reading starts only after it resolved.
   */
  readonly start?: (first: Buffer | undefined) => Promise<Buffer | undefined>;
  /** reading waits for an explicit `beginReading` (fast open: the answer is checked later) */
  readonly deferRead?: boolean;
}

const MAX_COALESCE = 16 << 10;

/**
 * A Duplex speaking a framed protocol over another Duplex: writes go out encoded (with
 * backpressure from the stream below), decoded payload is pushed to our reader (pausing the
 * stream below when our reader is full). Half-close passes through per the codec, every error
 * of the stream below is owned here, and destroying either side destroys the other.
 */
export class FramedDuplex extends Duplex {
  readonly #inner: Duplex;
  readonly #codec: FrameCodec;
  readonly #start?: FramedOptions['start'];
  #started: boolean;
  #pendingWrite: ((err?: Error | null) => void) | null = null;
  #eof = false;
  #reading = false;
  readonly #deferRead: boolean;
  readonly #batch: Buffer[] = [];
  #batchBytes = 0;
  readonly #sink: FrameSink;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onDrain: () => void;
  readonly #onEnd: () => void;
  readonly #onError: (err: Error) => void;
  readonly #onClose: () => void;

  constructor(inner: Duplex, codec: FrameCodec, opts: FramedOptions = {}) {
    super({ allowHalfOpen: true, readableHighWaterMark: 64 << 10, writableHighWaterMark: 64 << 10 });
    this.#inner = inner;
    this.#codec = codec;
    this.#start = opts.start;
    this.#started = opts.start === undefined;
    this.#deferRead = opts.deferRead === true;
    // bound once: no closure per chunk
    this.#sink = { push: (b) => this.#pushPayload(b), reply: (b) => void inner.write(b), eof: () => this.#pushEof() };
    this.#onData = (chunk) => this.#decode(chunk);
    this.#onDrain = () => this.#drained();
    // a FIN without an in-band end still ends our reader: nothing more can come
    this.#onEnd = () => this.#pushEof();
    this.#onError = (err) => this.destroy(err);
    // the stream below closed: after a complete read side, what we pushed must still reach our
    // reader (autoDestroy follows once it is read and our side finished); otherwise it is a reset
    this.#onClose = () => {
      if (!this.destroyed && !this.#eof) this.destroy();
    };
    inner.on('error', this.#onError);
    inner.on('drain', this.#onDrain);
    inner.on('end', this.#onEnd);
    inner.on('close', this.#onClose);
    if (this.#started && !this.#deferRead) this.beginReading(opts.leftover);
  }

  /** Starts decoding the stream below, `leftover` first (automatic unless `deferRead`). */
  beginReading(leftover?: Buffer): void {
    if (this.destroyed || this.#reading) return;
    this.#reading = true;
    if (leftover && leftover.length > 0) this.#onData(leftover);
    this.#inner.on('data', this.#onData);
    if (!this.destroyed && this.readableLength < this.readableHighWaterMark) this.#inner.resume();
  }

  #decode(chunk: Buffer): void {
    if (this.#eof) return;
    try {
      this.#codec.decode(chunk, this.#sink);
    } catch (err) {
      this.#flushBatch(); // payload decoded before the bad frame still goes out, as it did
      this.destroy(err instanceof ProxyError ? err : new ProxyError('PROTOCOL', (err as Error).message, { cause: err }));
      return;
    }
    this.#flushBatch();
  }

  /** Payload decoded during one read waits here, so it is pushed (and written on) once. */
  #pushPayload(b: Buffer): void {
    if (this.#eof || b.length === 0) return;
    this.#batch.push(b);
    this.#batchBytes += b.length;
  }

  #flushBatch(): void {
    const n = this.#batch.length;
    if (n === 0) return;
    const all = n === 1 ? this.#batch[0] : Buffer.concat(this.#batch, this.#batchBytes);
    this.#batch.length = 0;
    this.#batchBytes = 0;
    if (!this.push(all)) this.#inner.pause();
  }

  #pushEof(): void {
    if (this.#eof) return;
    this.#flushBatch();
    this.#eof = true;
    this.push(null);
  }

  #drained(): void {
    const cb = this.#pendingWrite;
    this.#pendingWrite = null;
    cb?.();
  }

  override _read(): void {
    if (this.#reading && this.#inner.isPaused()) this.#inner.resume();
  }

  #send(out: Buffer | readonly Buffer[], cb: (err?: Error | null) => void): void {
    const inner = this.#inner;
    if (inner.destroyed) {
      cb(new ProxyError('DIAL_FAILED', 'the connection below is closed'));
      return;
    }
    let ok = true;
    if (Buffer.isBuffer(out)) ok = inner.write(out);
    else for (const b of out) ok = inner.write(b);
    if (ok) cb();
    else this.#pendingWrite = cb;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.#started) {
      this.#started = true;
      this.#start!(chunk).then(
        (leftover) => {
          if (!this.#deferRead) this.beginReading(leftover);
          cb();
        },
        (err: Error) => cb(err),
      );
      return;
    }
    this.#send(this.#codec.encode(chunk), cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    let total = 0;
    for (const c of chunks) total += c.chunk.length;
    // small queued writes become one frame (one header, one syscall); big ones stay apart
    if (total <= MAX_COALESCE || !this.#started) {
      this._write(Buffer.concat(chunks.map((c) => c.chunk), total), 'binary', cb);
      return;
    }
    const out: Buffer[] = [];
    for (const c of chunks) {
      const e = this.#codec.encode(c.chunk);
      if (Buffer.isBuffer(e)) out.push(e);
      else out.push(...e);
    }
    this.#inner.cork();
    this.#send(out, cb);
    process.nextTick(() => this.#inner.uncork());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#started) {
      this.#started = true;
      this.#start!(undefined).then(
        (leftover) => {
          if (!this.#deferRead) this.beginReading(leftover);
          this.#finish(cb);
        },
        (err: Error) => cb(err),
      );
      return;
    }
    this.#finish(cb);
  }

  #finish(cb: (err?: Error | null) => void): void {
    if (this.#inner.destroyed || this.#inner.writableEnded) {
      cb();
      return;
    }
    const f = this.#codec.finish?.() ?? { endInner: true };
    // our 'finish' (and so autoDestroy, which destroys the stream below) must wait until the
    // stream below took everything: destroying it earlier drops what it still buffers
    if (f.endInner) endBelow(this.#inner, cb, f.bytes);
    else if (f.bytes) this.#inner.write(f.bytes, () => cb());
    else cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const inner = this.#inner;
    inner.off('data', this.#onData);
    inner.off('drain', this.#onDrain);
    inner.off('end', this.#onEnd);
    inner.off('close', this.#onClose);
    inner.off('error', this.#onError);
    // late errors of the dying stream below are expected; they must not crash the process
    inner.on('error', () => {});
    inner.destroy();
    this.#pendingWrite = null;
    cb(err);
  }
}
