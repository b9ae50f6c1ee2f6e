import { Duplex } from 'node:stream';
import { ProxyError } from '../../../core/errors.js';
import type { Decoder, Encoder } from './framing.js';
import { endBelow } from '../../../common/end-below.js';

/** Options of a {@link CipherDuplex}. */
export interface CipherDuplexOptions {
  /**
   * How long a held request header waits for the first payload before it goes out alone
   * (server-first protocols such as SMTP never write first). 0 disables the timer.
   */
  readonly holdMs?: number;
  /** names the connection in error messages: `proxy "x"` */
  readonly label?: string;
}

const HWM = 64 << 10;
/** Below this many bytes a batch is joined into one write; above, it goes out as a writev. */
const JOIN_BELOW = 16 << 10;
const EMPTY = Buffer.alloc(0);

/**
 * A Shadowsocks connection as a Duplex over the stream below (socket, TLS, plugin layer):
 * writes go through `encoder`, reads through `decoder`. Buffered writes arrive together in
 * `_writev`, so small writes are sealed as one chunk and the request header travels with the
 * first payload in one write. Backpressure holds both ways; `end()` flushes and ends the inner
 * stream (half-close); destroying either side destroys the other; every inner error is owned.
 */
export class CipherDuplex extends Duplex {
  readonly #inner: Duplex;
  readonly #encoder: Encoder;
  readonly #decoder: Decoder;
  readonly #label: string;
  readonly #out: Buffer[] = [];
  readonly #decoded: Buffer[] = [];
  #holdTimer: NodeJS.Timeout | undefined;
  /** a write callback waiting for the inner stream's 'drain' */
  #pendingCb: ((err?: Error | null) => void) | undefined;
  /** the peer's end of stream was decoded and pushed */
  #eof = false;

  constructor(inner: Duplex, encoder: Encoder, decoder: Decoder, opts: CipherDuplexOptions = {}) {
    super({ readableHighWaterMark: HWM, writableHighWaterMark: HWM, allowHalfOpen: true });
    this.#inner = inner;
    this.#encoder = encoder;
    this.#decoder = decoder;
    this.#label = opts.label ? `${opts.label}: ` : '';
    inner.on('data', this.#onData);
    inner.on('end', this.#onEnd);
    inner.on('error', this.#onError);
    inner.on('close', this.#onClose);
    inner.on('drain', this.#onDrain);
    const hold = opts.holdMs ?? 0;
    if (hold > 0 && encoder.holding) {
      this.#holdTimer = setTimeout(this.#flushHeader, hold);
      this.#holdTimer.unref?.();
    }
  }

  /** the stream below (tests, diagnostics) */
  get inner(): Duplex {
    return this.#inner;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send([chunk], cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const list: Buffer[] = new Array(chunks.length);
    for (let i = 0; i < chunks.length; i++) list[i] = chunks[i].chunk;
    this.#send(list, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#clearHold();
    if (this.#encoder.holding && this.#encoder.flushOnEnd) {
      this.#send([], (err) => {
        if (err) return cb(err);
        endBelow(this.#inner, cb);
      });
      return;
    }
    endBelow(this.#inner, cb);
  }

  override _read(): void {
    if (this.#inner.isPaused()) this.#inner.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#clearHold();
    const pending = this.#pendingCb;
    this.#pendingCb = undefined;
    this.#inner.off('data', this.#onData);
    this.#inner.destroy();
    pending?.(err ?? new Error('stream destroyed'));
    cb(err);
  }

  #send(list: readonly Buffer[], cb: (err?: Error | null) => void): void {
    this.#clearHold();
    const out = this.#out;
    out.length = 0;
    try {
      this.#encoder.encode(list, out);
    } catch (err) {
      out.length = 0;
      cb(err as Error);
      return;
    }
    const inner = this.#inner;
    if (inner.destroyed) {
      out.length = 0;
      cb(new ProxyError('PROTOCOL', `${this.#label}connection closed`));
      return;
    }
    let total = 0;
    for (const b of out) total += b.length;
    let ok = true;
    if (out.length === 1) {
      ok = inner.write(out[0]);
    } else if (total < JOIN_BELOW) {
      if (total > 0) ok = inner.write(Buffer.concat(out, total));
    } else {
      // large batches: one writev below, no copy
      inner.cork();
      for (const b of out) ok = inner.write(b);
      inner.uncork();
    }
    out.length = 0;
    if (ok) cb();
    else this.#pendingCb = cb;
  }

  readonly #flushHeader = (): void => {
    this.#holdTimer = undefined;
    if (this.#encoder.holding && !this.destroyed && !this.writableEnded) this.write(EMPTY);
  };

  readonly #onDrain = (): void => {
    const cb = this.#pendingCb;
    this.#pendingCb = undefined;
    cb?.();
  };

  readonly #onData = (data: Buffer): void => {
    if (this.destroyed) return;
    const out = this.#decoded;
    out.length = 0;
    try {
      this.#decoder.decode(data, out);
    } catch (err) {
      out.length = 0;
      this.destroy(this.#wrap(err));
      return;
    }
    if (out.length === 0) return;
    // one push per read: the next hop then writes once per read, not once per chunk piece
    const all = out.length === 1 ? out[0] : Buffer.concat(out);
    out.length = 0;
    if (!this.push(all)) this.#inner.pause();
  };

  readonly #onEnd = (): void => {
    if (this.destroyed) return;
    try {
      this.#decoder.end();
    } catch (err) {
      this.destroy(this.#wrap(err));
      return;
    }
    this.#eof = true;
    this.push(null);
  };

  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };

  readonly #onClose = (): void => {
    if (this.destroyed) return;
    // The stream below is gone. Before the peer's EOF that is a reset. After it, let the
    // reader take what is buffered first: destroying now would drop it.
    if (!this.#eof) this.destroy(new ProxyError('PROTOCOL', `${this.#label}connection closed by the server`));
    else if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  };

  #clearHold(): void {
    if (this.#holdTimer !== undefined) {
      clearTimeout(this.#holdTimer);
      this.#holdTimer = undefined;
    }
  }

  #wrap(err: unknown): Error {
    if (err instanceof ProxyError) return new ProxyError(err.code, `${this.#label}${err.message}`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
  }
}
