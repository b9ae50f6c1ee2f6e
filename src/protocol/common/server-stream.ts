import type { Duplex } from 'node:stream';
import { formatAddress, type Address } from '../../core/address.js';
import { errorMessage, ProxyError } from '../../core/errors.js';
import type { Dialer } from '../../core/outbound.js';
import { connectTls, type TlsOptions } from '../../transport/tls.js';
import { missHandshake, type WarmPoolLookup } from '../../transport/warm-connect.js';

/** How to reach a proxy server and how long its handshake may take. */
export interface ServerStreamOptions {
  /** the proxy's name, for error messages */
  readonly name: string;
  readonly server: Address;
  readonly dialer: Dialer;
  /** TLS to the proxy server itself; absent = plain TCP */
  readonly tls?: TlsOptions;
  /** bound on dial + TLS + the protocol handshake (mihomo's 5 s TCP dial timeout) */
  readonly timeoutMs: number;
  /** the proxy's warm TLS pool (clash-ts extension), used with `tls` only */
  readonly warmPool?: WarmPoolLookup;
}

/** Errors of a stream the caller must not crash on; the relay attaches its own listener. */
function ignoreError(): void {}

/**
 * Dials the proxy server, adds TLS if asked (or takes a warm TLS connection from the proxy's
 * pool), and runs `handshake` on the stream, all bounded
 * by `o.timeoutMs` and by the caller's `signal`. On any failure both the TLS stream and the
 * socket under it are destroyed, and the error becomes a ProxyError naming the proxy
 * (`proxy "name": …`), its code kept: DIAL_TIMEOUT when the bound fired, ABORTED when the
 * caller gave up. A never-removed no-op 'error' listener stays on both streams, so a late
 * socket error cannot kill the process whoever holds the stream.
 */
export async function withServerStream<T>(
  o: ServerStreamOptions,
  signal: AbortSignal,
  handshake: (stream: Duplex, raw: Duplex, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = (): void => ctl.abort(signal.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, o.timeoutMs);
  if (signal.aborted) ctl.abort(signal.reason);
  else signal.addEventListener('abort', onAbort, { once: true });
  let raw: Duplex | undefined;
  let stream: Duplex | undefined;
  try {
    const pool = o.tls ? o.warmPool?.(o.dialer) : undefined;
    // a warm hit is already handshaken: the TLS socket is the whole stack (it owns the fd)
    const warm = pool?.take();
    const t0 = Date.now();
    raw = warm ?? (await o.dialer.dialTcp(o.server, ctl.signal));
    raw.on('error', ignoreError);
    if (ctl.signal.aborted) throw new ProxyError('ABORTED', 'aborted');
    stream = warm ?? (!o.tls ? raw : pool ? await missHandshake(pool, raw, o.tls, ctl.signal, t0) : await connectTls(raw, o.tls, ctl.signal));
    if (stream !== raw) {
      stream.on('error', ignoreError);
      // whoever ends up holding the TLS stream, the socket under it dies with it, and vice versa
      const top = stream;
      const bottom = raw;
      top.once('close', () => bottom.destroy());
      bottom.once('close', () => top.destroy());
    }
    return await handshake(stream, raw, ctl.signal);
  } catch (err) {
    stream?.destroy();
    raw?.destroy();
    if (timedOut) {
      throw new ProxyError('DIAL_TIMEOUT', `proxy "${o.name}": no handshake with ${formatAddress(o.server)} within ${o.timeoutMs}ms`, { cause: err });
    }
    if (signal.aborted) throw new ProxyError('ABORTED', `proxy "${o.name}": aborted`, { cause: err });
    const code = err instanceof ProxyError ? err.code : 'DIAL_FAILED';
    throw new ProxyError(code, `proxy "${o.name}": ${errorMessage(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
