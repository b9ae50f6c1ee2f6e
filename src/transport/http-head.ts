import type { Duplex } from 'node:stream';
import { ProxyError } from '../core/errors.js';

// The HTTP/1.1 heads that the ws, httpupgrade, http-opts and simple-obfs layers exchange before
// their streams start. Written by hand because they run over any Duplex (a TLS stream, a proxy
// chain's hop), where node:http cannot be pointed.

/** A parsed response (or request) head. */
export interface HttpHead {
  /** the first line, e.g. `HTTP/1.1 101 Switching Protocols` */
  readonly startLine: string;
  /** the status code of a response; NaN for a request */
  readonly status: number;
  /** lower-case names; repeated headers joined with ", " */
  readonly headers: ReadonlyMap<string, string>;
}

/** A head and the bytes that came right after it. */
export interface HeadAndRest {
  readonly head: HttpHead;
  readonly rest: Buffer;
}

/** `GET /path HTTP/1.1` + headers, as bytes. Header values must not hold CR/LF. */
export function requestHead(method: string, path: string, headers: readonly (readonly [string, string])[]): Buffer {
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of headers) {
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new ProxyError('CONFIG', `header ${JSON.stringify(k)} holds a line break`);
    s += `${k}: ${v}\r\n`;
  }
  return Buffer.from(s + '\r\n', 'latin1');
}

/** Parses the text of a head (without its final blank line). */
export function parseHead(text: string): HttpHead {
  const lines = text.split('\r\n');
  const startLine = lines[0] ?? '';
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(startLine);
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(':');
    if (c <= 0) throw new ProxyError('PROTOCOL', `malformed HTTP header line ${JSON.stringify(lines[i].slice(0, 80))}`);
    const k = lines[i].slice(0, c).trim().toLowerCase();
    const v = lines[i].slice(c + 1).trim();
    const prev = headers.get(k);
    headers.set(k, prev === undefined ? v : `${prev}, ${v}`);
  }
  return { startLine, status: m ? Number(m[1]) : NaN, headers };
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Reads one HTTP head from `inner` (at most `limit` bytes), then pauses it: the bytes after the
 * head come back as `rest`, and nothing else is consumed. Rejects with ProxyError on close,
 * error, abort, an oversized head or malformed lines.
 */
export function readHead(inner: Duplex, signal: AbortSignal, limit = 16 << 10): Promise<HeadAndRest> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, value?: HeadAndRest): void => {
      inner.off('data', onData);
      inner.off('end', onEnd);
      inner.off('close', onEnd);
      inner.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (err) {
        inner.on('error', () => {});
        inner.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onData = (c: Buffer): void => {
      // search only where the terminator can start: the last 3 bytes before plus the new chunk
      const from = Math.max(0, buf.length - 3);
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      const at = buf.indexOf(CRLFCRLF, from);
      if (at < 0) {
        if (buf.length > limit) done(new ProxyError('PROTOCOL', `HTTP response head longer than ${limit} bytes`));
        return;
      }
      if (at > limit) return done(new ProxyError('PROTOCOL', `HTTP response head longer than ${limit} bytes`));
      inner.pause();
      let head: HttpHead;
      try {
        head = parseHead(buf.subarray(0, at).toString('latin1'));
      } catch (err) {
        return done(err as Error);
      }
      done(undefined, { head, rest: buf.subarray(at + 4) });
    };
    const onEnd = (): void => done(new ProxyError('PROTOCOL', `connection closed during the HTTP handshake (${buf.length} bytes received)`));
    const onError = (err: Error): void => done(new ProxyError('DIAL_FAILED', `HTTP handshake: ${err.message}`, { cause: err }));
    const onAbort = (): void => done(new ProxyError('ABORTED', 'HTTP handshake aborted'));
    if (signal.aborted) return onAbort();
    inner.on('data', onData);
    inner.on('end', onEnd);
    inner.on('close', onEnd);
    inner.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    inner.resume();
  });
}
