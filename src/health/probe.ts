import type { Duplex } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import type { Outbound } from '../core/outbound.js';
import type { TlsOptions } from '../transport/tls.js';
import { dialUrl, urlTarget, type UrlTarget } from '../transport/url-dial.js';
import { ExpectedStatus } from './expected-status.js';
import type { DelayHistory } from './history.js';

/** How one URL test runs. */
export interface ProbeOptions {
  /** http:// or https:// */
  readonly url: string;
  /** the whole test, dial included */
  readonly timeoutMs: number;
  /** which statuses count as alive (default: any) */
  readonly expected?: ExpectedStatus;
  /**
   * mihomo's `unified-delay`: send a second request on the same connection and report only its
   * time, so proxies that need more round trips to connect are not penalised twice
   */
  readonly unified?: boolean;
  /** extra trust anchors for https test URLs (tests use a private CA) */
  readonly ca?: TlsOptions['ca'];
  /** ends the test early (a health check whose generation retired) */
  readonly signal?: AbortSignal;
}

/** What one URL test measured. */
export interface ProbeResult {
  /** milliseconds from the dial (or from the second request, unified) to the response head */
  readonly delay: number;
  readonly status: number;
  /** the status is one of the expected ones */
  readonly ok: boolean;
}

/** A response head larger than this ends the test (a real answer to HEAD is a few hundred bytes). */
const MAX_HEAD = 32 * 1024;
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})/;

/** Where a test URL points; CONFIG for a scheme other than http(s) or a URL without a host. */
function targetOf(url: URL): UrlTarget {
  const t = urlTarget(url);
  if (!t) throw new ProxyError('CONFIG', `test URL ${url.href}: only http and https URLs with a host are supported`);
  return t;
}

/**
 * A URL test through `outbound`, as mihomo runs it: dial the test URL's host through the proxy,
 * TLS for https, a HEAD request, the time until the response head arrives. Resolves with the
 * delay and status; rejects (ProxyError) when the dial, the handshake or the answer fails or
 * the timeout passes. The connection is always closed afterwards.
 */
export async function probeDelay(outbound: Outbound, o: ProbeOptions): Promise<ProbeResult> {
  let parsed: URL;
  try {
    parsed = new URL(o.url);
  } catch {
    throw new ProxyError('CONFIG', `test URL ${JSON.stringify(o.url)} is not a URL`);
  }
  const t = targetOf(parsed);
  const timeout = AbortSignal.timeout(Math.max(1, o.timeoutMs));
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  let start = performance.now();
  let stream: Duplex | undefined;
  try {
    stream = await dialUrl(outbound, t, signal, o.ca);
    const reader = new HeadReader(stream, signal);
    const path = `${parsed.pathname}${parsed.search}` || '/';
    const request = Buffer.from(`HEAD ${path} HTTP/1.1\r\nHost: ${parsed.host}\r\nUser-Agent: clash-ts\r\nAccept: */*\r\n\r\n`, 'latin1');
    stream.write(request);
    let status = await reader.next();
    if (o.unified) {
      const second = performance.now();
      stream.write(request);
      try {
        status = await reader.next();
        start = second;
      } catch {
        // the first answer stands (a server that closes after one request)
      }
    }
    const delay = Math.max(1, Math.round(performance.now() - start));
    return { delay, status, ok: (o.expected ?? ExpectedStatus.ANY).matches(status) };
  } catch (err) {
    if (o.signal?.aborted) throw new ProxyError('DIAL_TIMEOUT', `${outbound.name}: URL test cancelled`);
    if (signal.aborted) throw new ProxyError('DIAL_TIMEOUT', `${outbound.name}: URL test timed out after ${o.timeoutMs} ms`);
    throw err;
  } finally {
    stream?.destroy();
  }
}

/** Reads response heads (HEAD answers carry no body) one after another from a stream. */
class HeadReader {
  #buf: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;
  #failed: Error | undefined;

  constructor(stream: Duplex, signal: AbortSignal) {
    stream.on('data', (b: Buffer) => {
      this.#buf = this.#buf.length === 0 ? b : Buffer.concat([this.#buf, b]);
      this.#drain();
    });
    const fail = (why: string) => () => this.#fail(new ProxyError('PROTOCOL', why));
    stream.on('end', fail('the test server closed before answering'));
    stream.on('close', fail('the test connection closed before the answer'));
    stream.on('error', (err: Error) => this.#fail(err));
    signal.addEventListener('abort', fail('timeout'), { once: true });
  }

  next(): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#failed) return reject(this.#failed);
      this.#waiting = { resolve, reject };
      this.#drain();
    });
  }

  #drain(): void {
    if (!this.#waiting) return;
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.#buf.length > MAX_HEAD) this.#fail(new ProxyError('PROTOCOL', 'the test answer head is too large'));
      return;
    }
    const line = this.#buf.toString('latin1', 0, Math.min(end, this.#buf.indexOf('\r\n')));
    this.#buf = this.#buf.subarray(end + 4);
    const m = STATUS_LINE.exec(line);
    const w = this.#waiting;
    this.#waiting = undefined;
    if (!m) w.reject(new ProxyError('PROTOCOL', `not an HTTP answer: ${JSON.stringify(line.slice(0, 40))}`));
    else w.resolve(Number(m[1]));
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.reject(this.#failed);
  }
}

/**
 * One URL test of `name`, recorded in `history` (0 for a failure or an unexpected status, as
 * groups read it). Resolves with the delay; rejects as probeDelay does, or with PROTOCOL for
 * an unexpected status.
 */
export async function recordedProbe(outbound: Outbound, name: string, o: ProbeOptions, history: DelayHistory): Promise<number> {
  let r: ProbeResult;
  try {
    r = await probeDelay(outbound, o);
  } catch (err) {
    history.record(name, 0);
    throw err;
  }
  history.record(name, r.ok ? r.delay : 0);
  if (!r.ok) throw new ProxyError('PROTOCOL', `${name}: status ${r.status} is not one of ${o.expected?.text ?? '*'}`);
  return r.delay;
}
