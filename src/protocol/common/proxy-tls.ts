import { boolLike, textLike } from '../../config/values.js';
import { warmPoolOptsSchema, type WarmPoolOpts } from '../../transport/options.js';
import type { TlsOptions } from '../../transport/tls.js';
import { warmOverride, warmPoolLookup, type WarmPoolLookup } from '../../transport/warm-connect.js';
import type { OutboundDeps } from '../registry.js';
import type { RemoteProxyBasics } from './dial-options.js';

/** mihomo's `fingerprint`: a SHA-256 certificate pin, hex with optional colons; empty = none. */
export const fingerprintField = textLike.refine(
  (v) => v.trim() === '' || /^[0-9a-fA-F]{64}$/.test(v.trim().replace(/:/g, '')),
  { message: 'fingerprint must be a SHA-256 certificate fingerprint (64 hex digits, colons optional)' },
);

/**
 * The TLS keys of proxies that are plain TCP protocols with an optional TLS wrap (http,
 * socks5), plus the clash-ts `warm-pool` extension. Protocols over the transport stack take
 * theirs from transport/options.ts instead.
 */
export const proxyTlsShape = {
  tls: boolLike.optional(),
  'skip-cert-verify': boolLike.optional(),
  fingerprint: fingerprintField.optional(),
  'warm-pool': warmPoolOptsSchema.optional(),
} as const;

/** TLS to the proxy server itself (`tls: true`) and its warm pool; both absent without TLS. */
export function proxyTls(
  o: RemoteProxyBasics & { readonly tls?: boolean; readonly 'skip-cert-verify'?: boolean; readonly fingerprint?: string; readonly 'warm-pool'?: WarmPoolOpts },
  serverName: string,
  deps: OutboundDeps,
): { tls?: TlsOptions; warmPool?: WarmPoolLookup } {
  if (!o.tls) return {};
  const tls: TlsOptions = { serverName, skipCertVerify: o['skip-cert-verify'] ?? false, fingerprint: o.fingerprint?.trim() || undefined };
  return { tls, warmPool: warmPoolLookup(deps.warmPool, { server: o.server, port: o.port, tls }, warmOverride(o['warm-pool'])) };
}
