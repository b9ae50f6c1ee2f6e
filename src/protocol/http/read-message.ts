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
    let acc: Buffer | undefined;
    const cleanup = (): void => {
      s.off('readable', onReadable);
      s.off('end', onEnd);
      s.off('close', onEnd);
      s.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onEnd = (): void => fail(new ProxyError('PROTOCOL', `connection closed by the server before ${what}`));
    const onError = (err: Error): void => fail(new ProxyError('DIAL_FAILED', `${err.message} (waiting for ${what})`, { cause: err }));
    const onAbort = (): void => fail(new ProxyError('ABORTED', `aborted while waiting for ${what}`, { cause: signal.reason }));
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = s.read() as Buffer | null) !== null) {
        // handshake messages are small and usually arrive whole: concat only when split
        acc = acc === undefined ? chunk : Buffer.concat([acc, chunk]);
        let step: ParseStep<T>;
        try {
          step = parse(acc);
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (step !== undefined) {
          cleanup();
          // stop reading here: one more read() could pull the stream's EOF before anyone listens
          if (step.used < acc.length) s.unshift(acc.subarray(step.used));
          resolve(step.value);
          return;
        }
      }
    };
    if (signal.aborted) return onAbort();
    if (s.destroyed || s.readableEnded) return onEnd();
    s.on('readable', onReadable);
    s.once('end', onEnd);
    s.once('close', onEnd);
    s.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
