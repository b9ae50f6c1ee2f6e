import { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import { ByteQueue } from '../../protocol/vmess/codec/byte-queue.js';
import { ChunkReader, ChunkWriter, type ChunkFraming } from '../../protocol/vmess/codec/chunk.js';
import { endBelow } from '../../common/end-below.js';

const HWM = 64 << 10;

/**
 * The server side of one VMess body: client chunks are opened and pushed as plain bytes (the
 * EOF chunk ends our readable side), our writes go out as chunks behind the sealed response
 * header, and `end()` sends the EOF chunk then ends the connection's write side. Without a
 * framing (security none/zero, no chunk stream) bytes pass through as they are. Destroying
 * either this or the inner stream destroys the other.
 */
export class VmessServerStream extends Duplex {
  readonly #inner: Duplex;
  readonly #reader?: ChunkReader;
  readonly #writer?: ChunkWriter;
  readonly #q = new ByteQueue();
  #head: Buffer | undefined;
  #readDone = false;
  #pendingWrite: ((err?: Error | null) => void) | undefined;

  constructor(inner: Duplex, request: ChunkFraming | undefined, response: ChunkFraming | undefined, responseHeader: Buffer) {
    super({ allowHalfOpen: true, readableHighWaterMark: HWM, writableHighWaterMark: HWM });
    this.#inner = inner;
    this.#head = responseHeader;
    if (request) this.#reader = new ChunkReader(request);
    if (response) this.#writer = new ChunkWriter(response);
    inner.on('data', this.#onData);
    inner.on('end', this.#onEnd);
    inner.on('error', this.#onError);
    inner.on('close', this.#onClose);
    inner.on('drain', this.#onDrain);
    // the client's FIN may have come (and been emitted) right behind its request
    if (inner.readableEnded) queueMicrotask(this.#onEnd);
  }

  /** Sends the response header now (the tunnel connected), before any payload. */
  flushHeader(): void {
    const h = this.#head;
    this.#head = undefined;
    if (h && !this.#inner.destroyed && !this.#inner.writableEnded) this.#inner.write(h);
  }

  #send(data: Buffer | undefined, cb: (err?: Error | null) => void): void {
    if (this.#inner.destroyed || this.#inner.writableEnded) return cb(new ProxyError('PROTOCOL', 'VMess client connection is closed'));
    const head = this.#head;
    this.#head = undefined;
    let out: Buffer | undefined;
    if (data === undefined || data.length === 0) out = head; // an empty chunk would mean EOF
    else if (this.#writer) out = this.#writer.stream(data, head);
    else out = head ? Buffer.concat([head, data]) : data;
    if (out === undefined || this.#inner.write(out)) cb();
    else this.#pendingWrite = cb;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#send(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.#inner.destroyed) return cb();
    const head = this.#head;
    this.#head = undefined;
    endBelow(this.#inner, cb, this.#writer ? this.#writer.end(head) : head);
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#inner.off('data', this.#onData);
    this.#inner.destroy();
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.(err ?? new ProxyError('PROTOCOL', 'VMess stream destroyed'));
    cb(err);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#readDone) return;
    if (!this.#reader) {
      if (!this.push(chunk)) this.#inner.pause();
      return;
    }
    this.#q.push(chunk);
    let more = true;
    try {
      for (let i = 0; i < 4096; i++) {
        const p = this.#reader.next(this.#q);
        if (p === undefined) break;
        if (p === null) {
          this.#readDone = true;
          this.push(null);
          return;
        }
        more = this.push(p);
      }
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (!more) this.#inner.pause();
  };

  readonly #onEnd = (): void => {
    if (this.#readDone) return;
    this.#readDone = true;
    // a raw body ends with the connection; a chunked one without its EOF chunk is cut short,
    // which we still pass on as an end (v2ray clients close without EOF chunks on errors)
    this.push(null);
  };

  readonly #onError = (err: Error): void => void this.destroy(err);
  // after a clean end the pushed bytes must still reach our reader: only an early close aborts
  readonly #onClose = (): void => {
    if (!this.destroyed && !this.#readDone) this.destroy();
    else if (!this.destroyed && !this.writableFinished) this.#onDrain();
  };
  readonly #onDrain = (): void => {
    const w = this.#pendingWrite;
    this.#pendingWrite = undefined;
    w?.();
  };
}
