import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type TLSSocket } from 'node:tls';
import { ProxyError } from '../core/errors.js';
import type { StreamLayer } from '../core/stream-layer.js';

/** TLS client options as mihomo's proxies spell them, already validated. */
export interface TlsOptions {
  /** SNI (mihomo `sni` / `servername`); IP literals send no SNI, as the RFC requires */
  readonly serverName?: string;
  /** ALPN protocols, in preference order */
  readonly alpn?: readonly string[];
  /** mihomo `skip-cert-verify`: accept any certificate */
  readonly skipCertVerify?: boolean;
  /** mihomo `fingerprint`: SHA-256 of the server certificate (hex, colons optional); pins it
   * instead of CA validation */
  readonly fingerprint?: string;
  /** extra trust anchors (tests use a self-signed CA) */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** `AB:CD…` or `abcd…` → `abcd…`. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toLowerCase();
}

/**
 * Secure contexts by options object: building one (OpenSSL context, CA store, cipher lists)
 * costs more than the rest of a client handshake's JS work, and every connection of a proxy
 * passes the same options object, so one context serves them all. Only `ca` goes into the
 * context; SNI, ALPN and verification are per connection.
 */
const contexts = new WeakMap<TlsOptions, tls.SecureContext>();

function secureContextFor(opts: TlsOptions): tls.SecureContext {
  let ctx = contexts.get(opts);
  if (ctx === undefined) {
    ctx = tls.createSecureContext({ ca: opts.ca as tls.SecureContextOptions['ca'] });
    contexts.set(opts, ctx);
  }
  return ctx;
}

/**
 * Runs a TLS client handshake over `inner` and resolves with the TLS stream once it is secure
 * (certificate verified, or pinned by fingerprint, or verification skipped on request).
 */
export function connectTls(inner: Duplex, opts: TlsOptions, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      inner.destroy();
      reject(new ProxyError('ABORTED', 'TLS handshake aborted'));
      return;
    }
    const pin = opts.fingerprint ? normalizeFingerprint(opts.fingerprint) : undefined;
    const servername = opts.serverName && isIP(opts.serverName) === 0 ? opts.serverName : undefined;
    const sock = tls.connect({
      socket: inner,
      servername,
      ALPNProtocols: opts.alpn ? [...opts.alpn] : undefined,
      rejectUnauthorized: !opts.skipCertVerify && pin === undefined,
      secureContext: secureContextFor(opts),
      // with a pin, the name check is the pin's job too. The key must be absent otherwise: an
      // explicit undefined would override Node's default checker (an internal assertion)
      ...(pin !== undefined || opts.skipCertVerify
        ? { checkServerIdentity: () => undefined }
        : // an IP server name sends no SNI, and without a host Node would check 'localhost':
          // verify the certificate against the IP itself (its IP SANs), as mihomo does
          opts.serverName !== undefined && servername === undefined
          ? { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(opts.serverName!, cert) }
          : {}),
    });
    const onAbort = (): void => fail(new ProxyError('ABORTED', 'TLS handshake aborted'));
    const fail = (err: Error): void => {
      cleanup();
      sock.destroy();
      inner.destroy();
      reject(err instanceof ProxyError ? err : new ProxyError('DIAL_FAILED', `TLS handshake: ${err.message}`, { cause: err }));
    };
    const onError = (err: Error): void => fail(err);
    const onClose = (): void => fail(new Error('connection closed during the TLS handshake'));
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      sock.off('close', onClose);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.once('secureConnect', () => {
      if (pin !== undefined) {
        const got = normalizeFingerprint(sock.getPeerCertificate().fingerprint256 ?? '');
        if (got !== pin) {
          fail(new ProxyError('DIAL_FAILED', `TLS certificate fingerprint mismatch (got ${got})`));
          return;
        }
      }
      cleanup();
      resolve(sock);
    });
  });
}

/** TLS as a StreamLayer. */
export function tlsLayer(opts: TlsOptions): StreamLayer {
  return { wrap: (inner, signal) => connectTls(inner, opts, signal) };
}
