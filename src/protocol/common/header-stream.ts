import { Duplex } from 'node:stream';
import { errorMessage, ProxyError } from '../../core/errors.js';
import type { DialOptions, Dialer } from '../../core/outbound.js';
import type { Transport } from '../../transport/build.js';
import { endBelow } from '../../common/end-below.js';

/**
 * Parses a server's response header at the start of the stream: its length once complete,
 * undefined while more bytes are needed; throws (a ProxyError) when the bytes are not one.
 */
export type ResponseParser = (buf: Buffer) => number | undefined;

/** Options of {@link HeaderStream}. */
export interface HeaderStreamOptions {
  /** the request header; it leaves together with the first client bytes */
  readonly header: Buffer;
  /** strips the server's response header (VLESS); absent when the protocol has none (Trojan) */
  readonly response?: ResponseParser;
  /** how long to wait for client bytes before sending the header alone (server-first protocols) */
  readonly flushDelayMs?: number;
  /** names the protocol in errors: `VLESS`, `Trojan` */
  readonly label: string;
}

/**
 * Encodes the request header, connects the transport (the previous hop or `dialer`) and wraps
 * the stream: the one dial path of the header-then-payload protocols (VLESS, Trojan). Errors
 * name `server`; an unencodable header is PROTOCOL, a failed connect keeps its code.
 */
export async function openHeaderStream(
  transport: Transport,
  dialer: Dialer,
  opts: DialOptions,
  server: string,
  encode: () => Buffer,
  stream: Omit<HeaderStreamOptions, 'header'>,
): Promise<HeaderStream> {
  let header: Buffer;
  try {
    header = encode();
  } catch (err) {
    throw new ProxyError('PROTOCOL', `${server} connect error: ${errorMessage(err)}`, { cause: err });
  }
  let inner: Duplex;
  try {
    inner = await transport.connect(opts.dialer ?? dialer, opts.signal);
  } catch (err) {
    const code = err instanceof ProxyError ? err.code : 'DIAL_FAILED';
    throw new ProxyError(code, `${server} connect error: ${errorMessage(err)}`, { cause: err });
  }
  return new HeaderStream(inner, { ...stream, header });
}

/** mihomo's tunnel waits up to 200 ms for the client's first bytes; we wait on the stream instead. */
const DEFAULT_FLUSH_DELAY_MS = 100;
const HWM = 64 << 10;
/** A response header longer than this is not one (VLESS: 2 + 255). */
const MAX_RESPONSE = 1024;
/** batched writes up to this size are joined into one */
const MAX_COALESCE = 16 << 10;

/**
 * The client side of a header-then-payload proxy protocol over an already-established stream.
 * The header is held until the first write (or `end()`, or `flushDelayMs` of silence) and goes
 * out in the same write as the first bytes, so over TLS it is one record. Reads skip the
 * server's response header, which may arrive together with the first data. Half-close passes
 * through (`end()` → `inner.end()`, inner 'end' → 'end'); destroying either side destroys the
 * other; inner errors surface here.
 */
export class HeaderStream extends Duplex {
  readonly #inner: Duplex;
  readonly #label: string;
  #header: Buffer | undefined;
  #parse: ResponseParser | undefined;
  #respBuf: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pendingCb: ((err?: Error | null) => void) | undefined;
  #eof = false;
  /** whether any payload byte came back (past the response header) */
  #gotPayload = false;
  /** our write side was ended for the owner (see #onEnd) */
  #writeClosed = false;

  constructor(inner: Duplex, opts: HeaderStreamOptions) {
    super({ allowHalfOpen: true, readableHighWaterMark: HWM, writableHighWaterMark: HWM });
    this.#inner = inner;
    this.#label = opts.label;
    this.#header = opts.header;
    this.#parse = opts.response;
    inner.on('data', this.#onData);
    inner.on('end', this.#onEnd);
    inner.on('error', this.#onError);
    inner.on('close', this.#onClose);
    inner.on('drain', this.#onDrain);
    this.#timer = setTimeout(this.#flush, opts.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS);
  }

  /** Sends the header alone if no client bytes came in time. */
  readonly #flush = (): void => {
    this.#timer = undefined;
    const h = this.#header;
    if (h === undefined || this.#inner.destroyed) return;
    this.#header = undefined;
    this.#inner.write(h);
  };

  #takeHeader(chunk: Buffer): Buffer {
    const h = this.#header;
    if (h === undefined) return chunk;
    this.#header = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    return Buffer.concat([h, chunk], h.length + chunk.length);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#writeClosed) return cb(new ProxyError('DIAL_FAILED', `${this.#label} server ended the session`));
    if (this.#inner.destroyed) return cb(new ProxyError('DIAL_FAILED', `${this.#label} connection closed`));
    if (this.#inner.write(this.#takeHeader(chunk))) cb();
    else this.#pendingCb = cb;
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.#writeClosed) return cb(new ProxyError('DIAL_FAILED', `${this.#label} server ended the session`));
    if (this.#inner.destroyed) return cb(new ProxyError('DIAL_FAILED', `${this.#label} connection closed`));
    let total = 0;
    for (const c of chunks) total += c.chunk.length;
    let ok: boolean;
    if (total <= MAX_COALESCE) {
      // small writes batched by the stream: one inner write (one TLS record)
      ok = this.#inner.write(this.#takeHeader(Buffer.concat(chunks.map((c) => c.chunk), total)));
    } else {
      // big ones stay apart (no copy); cork so the layer below sees them as one batch
      this.#inner.cork();
      ok = this.#inner.write(this.#takeHeader(chunks[0].chunk));
      for (let i = 1; i < chunks.length; i++) ok = this.#inner.write(chunks[i].chunk);
      this.#inner.uncork();
    }
    if (ok) cb();
    else this.#pendingCb = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#header !== undefined) this.#flush();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#writeClosed) cb();
    else endBelow(this.#inner, cb);
  }

  override _read(): void {
    if (this.#inner.isPaused()) this.#inner.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pendingCb;
    this.#pendingCb = undefined;
    pending?.(err ?? new ProxyError('ABORTED', `${this.#label} stream destroyed`));
    this.#inner.destroy();
    cb(err);
  }

  readonly #onDrain = (): void => {
    const cb = this.#pendingCb;
    this.#pendingCb = undefined;
    cb?.();
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#parse !== undefined) {
      const buf = this.#respBuf ? Buffer.concat([this.#respBuf, chunk]) : chunk;
      let n: number | undefined;
      try {
        n = this.#parse(buf);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      if (n === undefined) {
        if (buf.length > MAX_RESPONSE) this.destroy(new ProxyError('PROTOCOL', `${this.#label} response header too long`));
        else this.#respBuf = buf;
        return;
      }
      this.#parse = undefined;
      this.#respBuf = undefined;
      chunk = buf.subarray(n);
      if (chunk.length === 0) return;
    }
    this.#gotPayload = true;
    if (!this.push(chunk)) this.#inner.pause();
  };

  readonly #onEnd = (): void => {
    if (this.#respBuf !== undefined) {
      this.destroy(new ProxyError('PROTOCOL', `${this.#label} response header truncated`));
      return;
    }
    // An end with no response at all is an ordinary end: v2ray sends its response header only
    // with the first bytes back, so a destination that sends nothing yields no header.
    this.#eof = true;
    this.push(null);
    // A server that ends without one byte of payload has refused the session (wrong uuid or
    // password on v2ray; trojan-gfw after its fallback) or finished it: v2ray and trojan-gfw
    // never half-close towards the client. Ending our side too keeps a stream its owner
    // abandons after 'end' from staying half-open for ever; a server that did send data keeps
    // the ordinary half-close.
    if (!this.#gotPayload && !this.writableEnded) {
      this.#writeClosed = true;
      this.#inner.end();
    }
  };

  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };

  readonly #onClose = (): void => {
    if (this.destroyed) return;
    // closed under us without an orderly end: a reset or a dead peer
    if (!this.#eof) {
      this.destroy();
      return;
    }
    // after the peer's FIN: let the reader drain what was pushed, then go
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  };
}
