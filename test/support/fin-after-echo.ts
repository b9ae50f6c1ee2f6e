import { Duplex } from 'node:stream';
import type { Metadata } from '../../src/core/metadata.js';
import type { DialOptions, Outbound } from '../../src/core/outbound.js';

/**
 * For peers that end the whole relay on the first EOF from either side (microsocks, tinyproxy,
 * squid): a client FIN sent before the echo came back loses the echo. The wrapped stream holds
 * the client's FIN until every byte written has come back, then sends it and ends once the
 * peer closed. Everything else the conformance suite checks (bytes, hashes, concurrency,
 * abort, kill, descriptors) runs on the real stream; the suite's serverHalfClose flag covers
 * the other direction. Peers that pass half-close (dante) run unwrapped.
 */
class FinAfterEcho extends Duplex {
  #written = 0;
  #read = 0;
  #finish: (() => void) | undefined;
  #ending = false;
  constructor(readonly inner: Duplex) {
    super();
    inner.on('data', (b: Buffer) => {
      this.#read += b.length;
      this.push(b);
      this.#maybeEnd();
    });
    inner.on('end', () => {
      if (!this.#ending) this.push(null);
    });
    inner.on('error', (e) => this.destroy(e));
    inner.on('close', () => {
      if (!this.#ending) this.destroy();
    });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#written += chunk.length;
    this.inner.write(chunk, cb);
  }
  override _final(cb: () => void): void {
    this.#finish = cb;
    this.#maybeEnd();
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
  #maybeEnd(): void {
    if (!this.#finish || this.#read < this.#written) return;
    const done = this.#finish;
    this.#finish = undefined;
    this.#ending = true;
    // the peer answers our FIN by closing both legs; report the end once that happened (plus a
    // grace for the destination to notice), so that the next case starts from a quiet server
    this.inner.once('close', () =>
      setTimeout(() => {
        this.push(null);
        done();
      }, 100),
    );
    this.inner.end();
  }
}

/** The outbound with every TCP stream wrapped in {@link FinAfterEcho}. */
export function holdFinUntilEchoed(o: Outbound): Outbound {
  return { ...o, dialTcp: async (meta: Metadata, opts: DialOptions) => new FinAfterEcho(await o.dialTcp(meta, opts)) };
}
