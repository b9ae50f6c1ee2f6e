import { createHash } from 'node:crypto';
import type { Logger } from '../common/log.js';
import type { Dialer } from '../core/outbound.js';
import type { TlsOptions } from './tls.js';
import type { WarmPoolMetrics } from './warm-metrics.js';
import { WarmPool, type ServerBudget, type WarmPoolSettings, type WarmPoolTuning } from './warm-pool.js';

/** The global defaults: on, min 0 (nothing until a proxy is used), max 8, max-idle 3 s. */
export const WARM_POOL_DEFAULTS: WarmPoolSettings = { enable: true, min: 0, max: 8, maxIdleMs: 3000 };

/** A proxy's own `warm-pool:` (each key overrides the global one). */
export type WarmPoolOverride = Partial<WarmPoolSettings>;

/** How the composition root builds the registry. */
export interface WarmPoolRegistryOptions {
  readonly log: Logger;
  /** the one dialer pools dial through (the system dialer). Dials through any other dialer (a
   * proxy chain's previous hop, often built per connection) never use a pool */
  readonly dialer: Dialer;
  /** the global `warm-pool:` settings (defaults: WARM_POOL_DEFAULTS) */
  readonly defaults?: Partial<WarmPoolSettings>;
  /** warm connections (parked + handshaking) per server host:port over all its pools */
  readonly perServerCap?: number;
  readonly tuning?: Partial<WarmPoolTuning>;
  readonly now?: () => number;
}

/** Where a pool dials: the server and the TLS options that make its connections distinct. */
export interface WarmPoolTarget {
  readonly server: string;
  readonly port: number;
  readonly tls: TlsOptions;
}

/**
 * Where a proxy finds its warm pools: the registry itself, or one generation's scope of it
 * (`WarmPoolRegistry.scope()`), which lets go of its pools when the generation retires.
 */
export interface WarmPoolSource {
  /** Says, when a proxy is built, that it may pool to `target` (a pool it shares with a newer
   * generation then survives the older one's retirement). Creates nothing. */
  declare(target: WarmPoolTarget, override?: WarmPoolOverride): void;
  /** The pool for this target over this dialer; undefined when disabled for it or another dialer. */
  pool(dialer: Dialer, target: WarmPoolTarget, override?: WarmPoolOverride): WarmPool | undefined;
}

/**
 * Every warm pool of one running core, owned by the host (it outlives configs) and closed with it.
 * Pools are created lazily on first use, one per (server, port, TLS options): a proxy
 * that is never used never gets a connection. Connections per server are capped across pools.
 */
export class WarmPoolRegistry implements WarmPoolSource {
  readonly #o: WarmPoolRegistryOptions;
  #defaults: WarmPoolSettings;
  readonly #pools = new Map<string, WarmPool>();
  readonly #budgets = new Map<string, ServerBudget>();
  /** pool key → how many live scopes declared it */
  readonly #claims = new Map<string, number>();
  #closed = false;

  constructor(opts: WarmPoolRegistryOptions) {
    this.#o = opts;
    this.#defaults = { ...WARM_POOL_DEFAULTS, ...opts.defaults };
  }

  /** Replaces the global `warm-pool:` settings (a reload): pools built from now on use them; a
   * pool whose settings changed is another pool, and the old one goes with its generation. */
  get defaults(): WarmPoolSettings {
    return this.#defaults;
  }

  setDefaults(defaults: Partial<WarmPoolSettings> | undefined): void {
    this.#defaults = { ...WARM_POOL_DEFAULTS, ...defaults };
  }

  /** The effective settings of a proxy: its override over the global defaults. */
  settings(override?: WarmPoolOverride): WarmPoolSettings {
    const s = { ...this.#defaults, ...override };
    return { ...s, min: Math.min(s.min, s.max) };
  }

  /** Unscoped pools live until the registry closes: nothing to declare. */
  declare(_target: WarmPoolTarget, _override?: WarmPoolOverride): void {}

  /**
   * A view for one generation: the pools its proxies declare or use are claimed by it, and
   * `release()` closes those no other live scope claims (a removed proxy's parked
   * connections go; a pool the next generation shares stays warm).
   */
  scope(): WarmPoolScope {
    const keys = new Set<string>();
    let released = false;
    const claim = (key: string): void => {
      if (released || keys.has(key)) return;
      keys.add(key);
      this.#claims.set(key, (this.#claims.get(key) ?? 0) + 1);
    };
    return {
      declare: (target, override) => claim(poolKey(target, this.settings(override))),
      pool: (dialer, target, override) => {
        const p = this.pool(dialer, target, override);
        if (p) claim(poolKey(target, this.settings(override)));
        return p;
      },
      release: () => {
        if (released) return;
        released = true;
        for (const key of keys) {
          const n = (this.#claims.get(key) ?? 1) - 1;
          if (n > 0) {
            this.#claims.set(key, n);
            continue;
          }
          this.#claims.delete(key);
          this.#pools.get(key)?.close();
          this.#pools.delete(key);
        }
      },
    };
  }

  /** The pool for this target over this dialer; undefined when disabled for it or another dialer. */
  pool(dialer: Dialer, target: WarmPoolTarget, override?: WarmPoolOverride): WarmPool | undefined {
    const settings = this.settings(override);
    if (this.#closed || !settings.enable || settings.max <= 0 || dialer !== this.#o.dialer) return undefined;
    const key = poolKey(target, settings);
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = new WarmPool({
        key,
        server: target.server,
        port: target.port,
        tls: target.tls,
        dialer,
        settings,
        log: this.#o.log,
        budget: this.#budget(`${target.server}:${target.port}`),
        tuning: this.#o.tuning,
        now: this.#o.now,
      });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Snapshots of every pool, for logs and a metrics endpoint. */
  metrics(): WarmPoolMetrics[] {
    const out: WarmPoolMetrics[] = [];
    for (const p of this.#pools.values()) out.push(p.metrics());
    return out;
  }

  /** Closes every pool; later `pool()` calls return undefined. */
  close(): void {
    this.#closed = true;
    for (const p of this.#pools.values()) p.close();
    this.#pools.clear();
  }

  #budget(server: string): ServerBudget {
    let b = this.#budgets.get(server);
    if (!b) {
      const cap = this.#o.perServerCap ?? 2 * this.#defaults.max;
      let used = 0;
      b = {
        tryAcquire: () => (used < cap ? (used++, true) : false),
        release: () => void (used = Math.max(0, used - 1)),
      };
      this.#budgets.set(server, b);
    }
    return b;
  }
}

/** One generation's view of the registry (see `WarmPoolRegistry.scope`). */
export interface WarmPoolScope extends WarmPoolSource {
  /** the generation retired: close the pools only it claimed */
  release(): void;
}

/** server:port plus every TLS option that changes the handshake, and the pool's own settings. */
function poolKey(t: WarmPoolTarget, s: WarmPoolSettings): string {
  const o = t.tls;
  const ca = o.ca === undefined ? '' : createHash('sha256').update(JSON.stringify([o.ca].flat().map(String))).digest('hex').slice(0, 12);
  const host = t.server.includes(':') ? `[${t.server}]` : t.server;
  return [
    `${host}:${t.port}`,
    `sni=${o.serverName ?? ''}`,
    `alpn=${(o.alpn ?? []).join(',')}`,
    o.skipCertVerify ? 'insecure' : '',
    o.fingerprint ? `pin=${o.fingerprint}` : '',
    ca ? `ca=${ca}` : '',
    `max=${s.max}/${s.min}/${s.maxIdleMs}`,
  ].filter((x) => x !== '').join(' ');
}
