import type { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';

/** What a message parser says about the bytes received so far: undefined = need more. */
export type ParseStep<T> = { readonly value: T; readonly used: number } | undefined;

/**
 * Reads one handshake message from `s`: feeds everything received so far to `parse` until it
 * returns a value, then puts the bytes after the message back (`unshift`) so the next reader
 * (the next handshake step, or the relay) loses none of them: a server may send its answer
 * and the first tunnelled bytes in one segment.
 *
 * Paused mode ('readable' + read()) is used, not 'data', so that nothing flows past the
 * message; once the 'readable' listener is gone the stream returns to its initial state and
 * a later `on('data')` or `pipe()` starts it. `parse` throws (a ProxyError) on garbage.
 * Rejects with PROTOCOL when the stream ends first, ABORTED when `signal` fires.
 */
export function readMessage<T>(s: Duplex, parse: (buf: Buffer) => ParseStep<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    new MessageReader(s, parse, signal, what, resolve, reject).start();
  });
}

/** One read's state and listeners, bound once (a handshake runs one or more per connection). */
class MessageReader<T> {
  #acc: Buffer | undefined;

  constructor(
    readonly s: Duplex,
    readonly parse: (buf: Buffer) => ParseStep<T>,
    readonly signal: AbortSignal,
    readonly what: string,
    readonly resolve: (value: T) => void,
    readonly reject: (err: Error) => void,
  ) {}

  start(): void {
    if (this.signal.aborted) return this.#onAbort();
    if (this.s.destroyed || this.s.readableEnded) return this.#onEnd();
    this.s.on('readable', this.#onReadable);
    this.s.on('end', this.#onEnd);
    this.s.on('close', this.#onEnd);
    this.s.on('error', this.#onError);
    this.signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  #cleanup(): void {
    this.s.off('readable', this.#onReadable);
    this.s.off('end', this.#onEnd);
    this.s.off('close', this.#onEnd);
    this.s.off('error', this.#onError);
    this.signal.removeEventListener('abort', this.#onAbort);
  }

  #fail(err: Error): void {
    this.#cleanup();
    this.reject(err);
  }

  #onEnd = (): void => this.#fail(new ProxyError('PROTOCOL', `connection closed by the server before ${this.what}`));
  #onError = (err: Error): void => this.#fail(new ProxyError('DIAL_FAILED', `${err.message} (waiting for ${this.what})`, { cause: err }));
  #onAbort = (): void => this.#fail(new ProxyError('ABORTED', `aborted while waiting for ${this.what}`, { cause: this.signal.reason }));

  #onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = this.s.read() as Buffer | null) !== null) {
      // handshake messages are small and usually arrive whole: concat only when split
      const acc = this.#acc === undefined ? chunk : Buffer.concat([this.#acc, chunk]);
      this.#acc = acc;
      let step: ParseStep<T>;
      try {
        step = this.parse(acc);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (step !== undefined) {
        this.#cleanup();
        // stop reading here: one more read() could pull the stream's EOF before anyone listens
        if (step.used < acc.length) this.s.unshift(acc.subarray(step.used));
        this.resolve(step.value);
        return;
      }
    }
  };
}
