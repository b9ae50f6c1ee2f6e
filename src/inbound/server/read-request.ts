import type { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';

/**
 * Parses a request head at the start of `buf`: its value and byte length, undefined when more
 * bytes are needed; throws (ProxyError) when the bytes cannot be a valid request.
 */
export type RequestParser<T> = (buf: Buffer) => { readonly value: T; readonly length: number } | undefined;

/** A parsed request and the bytes that followed it. */
export interface ReadRequest<T> {
  readonly value: T;
  readonly rest: Buffer;
}

/**
 * Reads one request head from `stream` (at most `limit` bytes), then leaves it unread with the
 * bytes after the head put back (`unshift`), so the stream can be handed on as is. Rejects on a parse
 * error, an oversized head, or the stream closing first; the caller destroys the stream.
 * The deadline is the caller's: destroying the stream ends the wait.
 */
export function readRequest<T>(stream: Duplex, parse: RequestParser<T>, limit: number): Promise<ReadRequest<T>> {
  // paused mode ('readable' + read()): nothing is consumed past what we read, and an EOF right
  // behind the request is not emitted as 'end' before the next owner listens
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: ReadRequest<T>): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      if (err) reject(err);
      else resolve(value!);
    };
    const onReadable = (): void => {
      for (let i = 0; i < 1024; i++) {
        const chunk = stream.read() as Buffer | null;
        if (chunk === null) return;
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        let r: ReturnType<RequestParser<T>>;
        try {
          r = parse(buf);
        } catch (err) {
          return done(err as Error);
        }
        if (r === undefined) {
          if (buf.length > limit) return done(new ProxyError('PROTOCOL', `request head longer than ${limit} bytes`));
          continue;
        }
        const rest = buf.subarray(r.length);
        done(undefined, { value: r.value, rest });
        if (rest.length > 0) stream.unshift(rest);
        return;
      }
    };
    const onEnd = (): void => done(new ProxyError('PROTOCOL', `closed during the request (${buf.length} bytes received)`));
    const onError = (err: Error): void => done(new ProxyError('PROTOCOL', err.message, { cause: err }));
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}
