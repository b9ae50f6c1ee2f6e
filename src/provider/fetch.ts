import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Outbound } from '../core/outbound.js';
import type { TlsOptions } from '../transport/tls.js';
import { dialUrl, urlTarget } from '../transport/url-dial.js';

/** One GET of a subscription. */
export interface FetchRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** the whole request: dial, answer and body */
  readonly timeoutMs: number;
  /** bytes; 0 = no limit. A bigger body fails the fetch (mihomo truncates it) */
  readonly sizeLimit: number;
  readonly signal?: AbortSignal;
  /** extra trust anchors for https (tests run a private CA) */
  readonly ca?: TlsOptions['ca'];
}

/** What the server answered: 304 has no body. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** mihomo's subscription servers pick the Clash YAML format by this word in the agent. */
export const DEFAULT_USER_AGENT = 'clash.meta clash-ts';

/**
 * GETs `url` through `outbound` (its dialTcp: DIRECT, a proxy or a group of the generation),
 * with TLS for https. Rejects on a dial or TLS error, a timeout, an abort, a bigger body than
 * the limit; resolves with any status (the caller decides what a status means).
 */
export async function fetchThrough(outbound: Outbound, req: FetchRequest): Promise<FetchResponse> {
  const url = new URL(req.url);
  const target = urlTarget(url);
  if (!target) throw new Error(`${url.protocol} URLs cannot be fetched`);
  const timeout = AbortSignal.timeout(Math.max(1, req.timeoutMs));
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers: Record<string, string | string[]> = { 'user-agent': DEFAULT_USER_AGENT };
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = [...v];
  headers.host = url.host;
  headers.connection = 'close';

  let stream: Duplex | undefined;
  const onAbort = (): void => {
    stream?.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) throw abortError(signal);
    stream = await dialUrl(outbound, target, signal, req.ca);
    if (signal.aborted) throw abortError(signal);
    return await request(stream, `${url.pathname}${url.search}` || '/', headers, req.sizeLimit, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
    stream?.destroy();
  }
}

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name === 'TimeoutError') return new Error('timed out');
  return r instanceof Error ? r : new Error('aborted');
}

function request(stream: Duplex, path: string, headers: Record<string, string | string[]>, sizeLimit: number, signal: AbortSignal): Promise<FetchResponse> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, res?: FetchResponse): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = (): void => {
      finish(abortError(signal));
      req.destroy();
    };
    const req = http.request({ method: 'GET', path, headers, createConnection: () => stream as never });
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (sizeLimit > 0 && size > sizeLimit) {
          finish(new Error(`the body is larger than size-limit (${sizeLimit} bytes)`));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(new Error('the server closed the connection mid-body')));
    });
    req.end();
  });
}

/** `upload=1; download=2; total=3; expire=4` → numbers (mihomo: lower-cased, spaces dropped, floats truncated). */
export function parseSubscriptionInfo(text: string): { Upload: number; Download: number; Total: number; Expire: number } | undefined {
  const out = { Upload: 0, Download: 0, Total: 0, Expire: 0 };
  let any = false;
  for (const field of text.toLowerCase().replace(/\s+/g, '').split(';')) {
    const eq = field.indexOf('=');
    if (eq < 0) continue;
    const v = Math.trunc(Number(field.slice(eq + 1)));
    if (!Number.isFinite(v)) continue;
    const k = field.slice(0, eq);
    if (k === 'upload') out.Upload = v;
    else if (k === 'download') out.Download = v;
    else if (k === 'total') out.Total = v;
    else if (k === 'expire') out.Expire = v;
    else continue;
    any = true;
  }
  return any ? out : undefined;
}
