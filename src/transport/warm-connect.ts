import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Dialer } from '../core/outbound.js';
import type { WarmPoolOpts } from './options.js';
import { connectTls, type TlsOptions } from './tls.js';
import type { WarmPool } from './warm-pool.js';
import type { WarmPoolOverride, WarmPoolSource, WarmPoolTarget } from './warm-pool-registry.js';

/**
 * How a proxy finds its warm pool for the dialer of one connection: the registry's own dialer
 * yields the proxy's pool, any other dialer (a proxy chain's hop) none. Every TLS-carrying
 * outbound (the transport stack of trojan/vless/vmess, and http/socks5 with `tls: true`) asks
 * through one of these, so they all pool the same way.
 */
export type WarmPoolLookup = (dialer: Dialer) => WarmPool | undefined;

/** A lookup remembered per dialer, so a connect costs one map get. Absent registry: never a pool.
 * Declares the target at once, when the proxy is built. */
export function warmPoolLookup(registry: WarmPoolSource | undefined, target: WarmPoolTarget, override: WarmPoolOverride): WarmPoolLookup {
  if (!registry) return () => undefined;
  registry.declare(target, override);
  const seen = new Map<Dialer, WarmPool>();
  return (d) => {
    const known = seen.get(d);
    if (known) return known;
    const p = registry.pool(d, target, override);
    // only the registry's own dialer yields a pool; other dialers (chains) are not remembered
    if (p) seen.set(d, p);
    return p;
  };
}

/** A proxy's `warm-pool` key in the registry's terms. */
export function warmOverride(o: WarmPoolOpts | undefined): WarmPoolOverride {
  if (!o) return {};
  const r: { enable?: boolean; min?: number; max?: number; maxIdleMs?: number } = {};
  if (o.enable !== undefined) r.enable = o.enable;
  if ('min' in o && o.min !== undefined) r.min = o.min;
  if ('max' in o && o.max !== undefined) r.max = o.max;
  if ('max-idle' in o && o['max-idle'] !== undefined) r.maxIdleMs = o['max-idle'];
  return r;
}

/**
 * The TLS handshake of a pool miss over an already dialed stream; the time from `startedAt`
 * (before the dial) to secure is fed to the pool, which sizes itself by it.
 */
export async function missHandshake(pool: WarmPool, inner: Duplex, tls: TlsOptions, signal: AbortSignal, startedAt: number): Promise<TLSSocket> {
  const s = await connectTls(inner, tls, signal);
  pool.observeHandshake(Date.now() - startedAt);
  return s;
}
