import { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import { ByteQueue } from './codec/byte-queue.js';
import { ChunkReader, ChunkWriter } from './codec/chunk.js';
import { openResponseHeader } from './codec/response.js';
import type { VmessSession } from './codec/session.js';
import { endBelow } from '../../common/end-below.js';

/**
 * How long the sealed request header waits for the first client bytes to ride with it. Past
 * this it goes alone, so protocols where the server speaks first (SSH, SMTP) are not stalled.
 */
export const HEADER_COALESCE_MS = 20;

const HWM = 64 << 10;

/**
 * A VMess client connection as a Duplex over the transport stream `inner`: writes become body
 * chunks (the sealed header rides with the first ones), the response header is checked, and
 * response chunks are read back. `end()` sends the EOF chunk, then ends `inner`; destroying
 * either side destroys the other.
 */
export class VmessClientStream extends Duplex {
  readonly #inner: Duplex;
  readonly #session: VmessSession;
  readonly #who: string;
  readonly #writer?: ChunkWriter;
  readonly #reader?: ChunkReader;
  readonly #q = new ByteQueue();
  /** payloads opened from one read, joined before they are pushed */
  readonly #opened: Buffer[] = [];
  #head: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #gotHeader = false;
  #readDone = false;
  #pendingWrite: ((err?: Error | null) => void) | undefined;

  constructor(inner: Duplex, session: VmessSession, sealedHeader: Buffer, proxyName: string) {
    super({ allowHalfOpen: true, readableHighWaterMark: HWM, writableHighWaterMark: HWM });
    this.#inner = inner;
    this.#session = session;
    this.#who = `proxy "${proxyName}"`;
    this.#head = sealedHeader;
    if (session.requestFraming) this.#writer = new ChunkWriter(session.requestFraming);
    if (session.responseFraming) this.#reader = new ChunkReader(session.responseFraming);
    inner.on('data', this.#onData);
    inner.on('end', this.#onEnd);
    inner.on('error', this.#onError);
    inner.on('close', this.#onClose);
    inner.on('drain', this.#onDrain);
    this.#timer = setTimeout(this.#flushHead, HEADER_COALESCE_MS);
    this.#timer.unref();
  }

  #takeHead(): Buffer | undefined {
    const h = this.#head;
    this.#head = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    return h;
  }

  readonly #flushHead = (): void => {
    const h = this.#takeHead();
    if (h && !this.#inner.destroyed) this.#inner.write(h);
  };

  #send(data: Buffer, cb: (err?: Error | null) => void): void {
    if (this.#inner.destroyed || this.#inner.writableEnded) {
      cb(new ProxyError('PROTOCOL', `${this.#who}: connection to the server is closed`));
      return;
    }
    const head = this.#takeHead();
    let out: Buffer | undefined;
    if (data.length === 0) out = head; // an empty chunk would mean EOF
    else if (this.#writer) out = this.#writer.stream(data, head);
    else out = head ? Buffer.concat([head, data]) : data;
    if (out === undefined || this.#inner.write(out)) cb();
    else this.#pendingWrite = cb;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    // one seal pass over everything queued: fewer, full-size chunks
    if (chunks.length === 1) return this.#send(chunks[0].chunk, cb);
    let total = 0;
    for (let i = 0; i < chunks.length; i++) total += chunks[i].chunk.length;
    const all = Buffer.allocUnsafe(total);
    for (let i = 0, at = 0; i < chunks.length; i++) at += chunks[i].chunk.copy(all, at);
    this.#send(all, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const head = this.#takeHead();
    const out = this.#writer ? this.#writer.end(head) : head;
    endBelow(this.#inner, cb, out);
  }

  override _read(): void {
    if (this.#inner.isPaused()) this.#inner.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#takeHead();
    this.#inner.destroy();
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.(err ?? new Error('stream destroyed'));
    cb(err);
  }

  readonly #onDrain = (): void => {
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.();
  };

  readonly #onData = (b: Buffer): void => {
    if (this.#readDone) return;
    this.#q.push(b);
    try {
      this.#decode();
    } catch (err) {
      this.#pushOpened(); // what authenticated before the bad chunk still goes out, as it did
      this.destroy(new ProxyError('PROTOCOL', `${this.#who}: ${(err as Error).message}`, { cause: err }));
    }
  };

  #decode(): void {
    const q = this.#q;
    if (!this.#gotHeader) {
      const r = openResponseHeader(this.#session.response, q.peekAll());
      if (!r) return;
      q.take(r.length);
      if (r.header.responseAuth !== this.#session.request.responseAuth) {
        throw new ProxyError('PROTOCOL', 'VMess response header does not echo our request');
      }
      this.#gotHeader = true;
    }
    const reader = this.#reader;
    if (!reader) {
      if (q.length > 0 && !this.push(q.takeAll())) this.#inner.pause();
      return;
    }
    // A server's chunks are small (v2ray's are ~2 KiB): everything one read yields is pushed
    // as one buffer, so the next hop sees one write per read, not one per chunk.
    const got = this.#opened;
    let eof = false;
    for (;;) {
      const p = reader.next(q);
      if (p === undefined) break;
      if (p === null) {
        eof = true;
        break;
      }
      got.push(p);
    }
    this.#pushOpened();
    if (eof) {
      this.#readDone = true;
      this.push(null);
    }
  }

  /** Pushes the payloads opened so far as one buffer. */
  #pushOpened(): void {
    const got = this.#opened;
    if (got.length === 0) return;
    const all = got.length === 1 ? got[0] : Buffer.concat(got);
    got.length = 0;
    if (!this.push(all)) this.#inner.pause();
  }

  readonly #onEnd = (): void => {
    if (this.#readDone) return;
    this.#readDone = true;
    if (!this.#gotHeader && this.#q.length === 0 && this.writableFinished) {
      // we ended and the server closed without answering: v2ray does so when the destination
      // sent nothing back before its idle timeout, so this is an empty reply, not a failure
      this.push(null);
    } else if (!this.#gotHeader) {
      this.destroy(new ProxyError('PROTOCOL', `${this.#who}: server closed before the VMess response (wrong uuid, clock skew, or not VMess)`));
    } else if (this.#q.length > 0) {
      this.destroy(new ProxyError('PROTOCOL', `${this.#who}: VMess stream truncated mid-chunk`));
    } else {
      // a server may close without the EOF chunk; its FIN says the same
      this.push(null);
    }
  };

  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };

  readonly #onClose = (): void => {
    if (this.destroyed) return;
    if (!this.#readDone) this.#onEnd();
    // nothing can be written any more: once the reader has what arrived, finish the stream
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.(new ProxyError('PROTOCOL', `${this.#who}: connection to the server closed`));
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  };
}
