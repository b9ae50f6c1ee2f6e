import http from 'node:http';
import { basename } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { writeAtomic } from '../common/write-atomic.js';
import { errorMessage } from '../core/errors.js';
import type { Outbound } from '../core/outbound.js';
import type { TlsOptions } from '../transport/tls.js';
import { dialUrl, urlTarget } from '../transport/url-dial.js';
import type { GeoDownload } from './prepare.js';

/** How geo databases are fetched. */
export interface GeoDownloadOptions {
  /**
   * What to fetch through, asked per download. mihomo dials through its tunnel once one runs
   * (so the running rules decide, a proxy when they say so) and directly before that.
   */
  readonly outbound: () => Outbound;
  readonly log: Logger;
  /** the whole download (mihomo: 90 s) */
  readonly timeoutMs?: number;
  /** a bigger body is refused (default 256 MiB: real GeoSite.dat files are ~10 MB) */
  readonly maxBytes?: number;
  /** extra trust anchors for https (tests run a private CA) */
  readonly ca?: TlsOptions['ca'];
}

const MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 90_000;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** progress is told at these fractions of a known length, else every this many bytes */
const STEPS = [0.25, 0.5, 0.75];
const UNKNOWN_STEP = 4 * 1024 * 1024;

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * A GeoDownload: GETs the URL (following up to 5 redirects, as release downloads need),
 * logging progress, refuses a status other than 200, a body shorter than its Content-Length
 * or bigger than the limit, and bytes `verify` rejects; then writes them next to `path` and
 * renames them over it, so the file is either the old copy or the whole new one.
 */
export function geoDownloader(opts: GeoDownloadOptions): GeoDownload {
  return async (label, url, path, verify) => {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const name = basename(path);
    let target = url;
    let body: Buffer | undefined;
    for (let hop = 0; body === undefined; hop++) {
      const r = await get(opts, target, name, timeout);
      if (r.location === undefined) {
        body = r.body!;
        break;
      }
      if (hop >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      target = new URL(r.location, target).toString();
    }
    try {
      verify(body);
    } catch (err) {
      throw new Error(`invalid ${label} database file: ${errorMessage(err)}`);
    }
    try {
      await writeAtomic(path, body);
    } catch (err) {
      throw new Error(`can't save ${label} database file: ${errorMessage(err)}`);
    }
    return body;
  };
}

/** One GET: the body of a 200, or the Location of a redirect. */
async function get(opts: GeoDownloadOptions, url: string, name: string, signal: AbortSignal): Promise<{ body?: Buffer; location?: string }> {
  const u = new URL(url);
  const t = urlTarget(u);
  if (!t) throw new Error(`${u.protocol} URLs cannot be downloaded`);
  let stream: Duplex | undefined;
  const onAbort = (): void => {
    stream?.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) throw new Error('timed out');
    stream = await dialUrl(opts.outbound(), t, signal, opts.ca);
    if (signal.aborted) throw new Error('timed out');
    return await request(stream, u, name, opts, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
    stream?.destroy();
  }
}

function request(stream: Duplex, u: URL, name: string, opts: GeoDownloadOptions, signal: AbortSignal): Promise<{ body?: Buffer; location?: string }> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, r?: { body?: Buffer; location?: string }): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(r!);
    };
    const onAbort = (): void => {
      finish(new Error('timed out'));
      req.destroy();
    };
    const headers: Record<string, string> = { host: u.host, 'user-agent': 'clash.meta clash-ts', connection: 'close' };
    if (u.username !== '') headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    const req = http.request({ method: 'GET', path: `${u.pathname}${u.search}` || '/', headers, createConnection: () => stream as never });
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && typeof res.headers.location === 'string') {
        res.resume();
        finish(undefined, { location: res.headers.location });
        return;
      }
      if (status !== 200) {
        res.resume();
        finish(new Error(`HTTP ${status} from ${u.origin}${u.pathname}`));
        return;
      }
      const total = Number(res.headers['content-length'] ?? NaN);
      const known = Number.isFinite(total) && total > 0;
      if (known && total > max) {
        finish(new Error(`the file is larger than ${max} bytes (${total})`));
        req.destroy();
        return;
      }
      opts.log.info(`[GEO] Downloading ${name}${known ? ` (${mb(total)})` : ''} from ${u.origin}${u.pathname}`);
      const chunks: Buffer[] = [];
      let size = 0;
      let step = 0;
      let nextUnknown = UNKNOWN_STEP;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) {
          finish(new Error(`the file is larger than ${max} bytes`));
          req.destroy();
          return;
        }
        chunks.push(c);
        if (known) {
          while (step < STEPS.length && size >= STEPS[step] * total) {
            opts.log.info(`[GEO] Downloading ${name}: ${mb(size)} of ${mb(total)} (${Math.round(STEPS[step] * 100)}%)`);
            step++;
          }
        } else if (size >= nextUnknown) {
          opts.log.info(`[GEO] Downloading ${name}: ${mb(size)}`);
          nextUnknown += UNKNOWN_STEP;
        }
      });
      res.on('end', () => {
        if (known && size !== total) finish(new Error(`the download ended after ${size} of ${total} bytes`));
        else {
          opts.log.info(`[GEO] Downloaded ${name}: ${mb(size)}`);
          finish(undefined, { body: Buffer.concat(chunks) });
        }
      });
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(new Error(`the server closed the connection after ${size} bytes`)));
    });
    req.end();
  });
}
