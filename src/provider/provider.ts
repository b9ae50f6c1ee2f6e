import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Logger } from '../common/log.js';
import type { Path } from '../config/issues.js';
import type { ProviderConfig } from '../config/load.js';
import { PROVIDER_CACHE_DIR, type ProviderHealthCheck } from '../config/provider.js';
import { providerDialerCycle, type DialerGraph } from '../config/proxy-group.js';
import { errorMessage } from '../core/errors.js';
import type { Outbound } from '../core/outbound.js';
import type { ProxyProvider, SubscriptionInfo, VehicleType } from '../core/provider.js';
import type { OutboundDeps, ProxyRegistry } from '../protocol/registry.js';
import type { TlsOptions } from '../transport/tls.js';
import { DEFAULT_MAX_FAILED, HealthCheck } from '../group/common/health.js';
import type { HealthEnv } from '../group/registry.js';
import { ExpectedStatus } from '../health/expected-status.js';
import { parseSubscriptionInfo } from './fetch.js';
import { FetchedCopy } from './fetched-copy.js';
import { payloadMappings, selectProxies } from './payload.js';


/** What a provider builds and fetches with: the generation's own registry, deps and outbounds. */
export interface ProviderDeps {
  readonly registry: ProxyRegistry;
  /** the same deps the config's proxies are built with */
  readonly outboundDeps: OutboundDeps;
  readonly log: Logger;
  /** the generation's outbounds (`proxy:` of an http provider; DIRECT by default) */
  readonly lookup: (name: string) => Outbound | undefined;
  /** names of the config's proxies, groups and built-ins: a provider proxy gets another name */
  readonly taken: ReadonlySet<string>;
  /** relative `path`s and the default cache dir are under it */
  readonly homeDir: string;
  readonly fetchTimeoutMs?: number;
  /** extra trust anchors for https subscriptions (tests) */
  readonly ca?: TlsOptions['ca'];
  /** the config's groups, proxies and providers: a proxy's dialer-proxy must not lead back to this provider */
  readonly dialerGraph?: DialerGraph;
  /** the generation's probe queue and the host's delay history: the `health-check` runs with them (absent: none runs) */
  readonly health?: HealthEnv;
}

const VEHICLES: Record<ProviderConfig['type'], VehicleType> = { file: 'File', http: 'HTTP', inline: 'Inline' };

/**
 * Where a provider's copy lives (proxy- and rule-providers alike): `path` under the home dir,
 * or HOMEDIR/<cacheDir>/md5(url) for http (`proxies/` by default, `rules/` for rule-providers).
 */
export function providerPath(cfg: Pick<ProviderConfig, 'type' | 'file' | 'url'>, homeDir: string, cacheDir = PROVIDER_CACHE_DIR): string | undefined {
  if (cfg.type === 'inline') return undefined;
  if (cfg.file !== undefined) {
    const p = resolve(homeDir, cfg.file);
    // mihomo: an http provider may only write under the home dir
    const rel = relative(resolve(homeDir), p);
    if (cfg.type === 'http' && (rel.startsWith('..') || isAbsolute(rel))) throw new Error(`path is not subpath of home directory: ${p}`);
    return p;
  }
  return join(resolve(homeDir), cacheDir, createHash('md5').update(cfg.url ?? '').digest('hex'));
}

/**
 * A `proxy-providers` entry: `inline` (its payload), `file` (a file, re-read every `interval`)
 * or `http` (the last good copy on disk until a fetch succeeds; fetched at start and every
 * `interval`). Its proxies are built like the config's. Building it reads only local data
 * (`prepare`); `start` begins the fetches and timers; `close` stops them and aborts a fetch.
 */
export class ConfigProxyProvider implements ProxyProvider {
  readonly name: string;
  readonly label: string;
  readonly vehicleType: VehicleType;
  readonly healthCheckConfig: ProviderHealthCheck;
  /** its `health-check` as it runs (absent without a url): through the generation's probe queue, results in the host's history */
  readonly health: HealthCheck | undefined;
  /** the copy on disk (file, http) */
  readonly path: string | undefined;
  readonly #cfg: ProviderConfig;
  readonly #deps: ProviderDeps;
  #proxies: readonly Outbound[] = [];
  /** replaced sets: closed with the provider (live connections may still use them) */
  readonly #retired: Outbound[] = [];
  readonly #listeners = new Set<() => void>();
  /** inline: when its payload was applied */
  #inlineAt = 0;
  #subscription: SubscriptionInfo | undefined;
  /** file / http: the copy's life (disk, conditional fetch, timer) */
  readonly #copy: FetchedCopy | undefined;
  #closed = false;

  constructor(cfg: ProviderConfig, deps: ProviderDeps) {
    this.name = cfg.name;
    this.label = `provider(${cfg.name})`;
    this.vehicleType = VEHICLES[cfg.type];
    this.healthCheckConfig = cfg.healthCheck;
    this.#cfg = cfg;
    this.#deps = deps;
    this.path = providerPath(cfg, deps.homeDir);
    this.#copy =
      this.path === undefined
        ? undefined
        : new FetchedCopy(cfg, this.path, deps, {
            defaultSizeLimit: 0,
            apply: (buf, source) => {
              const { mappings, warnings } = payloadMappings(buf.toString('utf8'));
              this.#applyMappings(mappings, warnings, source);
            },
            onHeaders: (headers) => {
              const info = headers['subscription-userinfo'];
              if (typeof info === 'string') this.#subscription = parseSubscriptionInfo(info) ?? this.#subscription;
            },
          });
    const hc = cfg.healthCheck;
    // as mihomo: no url, no check; `enable: false` keeps the url for the API's healthcheck but no timer
    this.health =
      hc.url === ''
        ? undefined
        : new HealthCheck({
            group: cfg.name,
            label: `health-check(provider ${cfg.name})`,
            settings: {
              url: hc.url,
              intervalMs: hc.enable ? hc.interval * 1000 : 0,
              timeoutMs: hc.timeout,
              lazy: hc.lazy,
              maxFailedTimes: DEFAULT_MAX_FAILED,
              expected: ExpectedStatus.parse(hc.expectedStatus === '' ? '*' : hc.expectedStatus),
            },
            members: () => this.#proxies,
            env: deps.health,
            log: deps.log,
          });
  }

  get testUrl(): string {
    return this.#cfg.healthCheck.url;
  }

  get expectedStatus(): string {
    return this.#cfg.healthCheck.expectedStatus === '' ? '*' : this.#cfg.healthCheck.expectedStatus;
  }

  /** A group using it was used: a lazy check that never ran starts (in the background). */
  touch(): void {
    this.health?.touch();
  }

  /** Tests every proxy now with the health-check URL; resolves when done. */
  async healthCheck(): Promise<void> {
    await this.health?.check();
  }

  proxies(): readonly Outbound[] {
    return this.#proxies;
  }

  get updatedAt(): number {
    return this.#copy?.updatedAt ?? this.#inlineAt;
  }

  get subscriptionInfo(): SubscriptionInfo | undefined {
    return this.#subscription;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Loads what is local, touching no network: the inline payload, or the copy on disk (a
   * missing or bad copy is a warning; an http provider then waits for its first fetch).
   */
  async prepare(): Promise<void> {
    if (this.#cfg.type === 'inline') {
      try {
        this.#applyMappings(this.#cfg.payload ?? [], [], 'payload');
        this.#inlineAt = Date.now();
      } catch (err) {
        this.#warn(errorMessage(err));
      }
      return;
    }
    await this.#copy?.loadLocal();
  }

  /** Begins the work: an http provider fetches (now, or when its copy is `interval` old); a file provider re-reads each interval. */
  start(): void {
    if (this.#closed) return;
    this.health?.start();
    const copy = this.#copy;
    if (!copy) return;
    const intervalMs = this.#cfg.intervalSec * 1000;
    if (this.#cfg.type === 'http') copy.schedule(intervalMs > 0 && copy.age < intervalMs ? intervalMs - copy.age : 0);
    else if (intervalMs > 0) copy.schedule(intervalMs);
  }

  /** Fetches (http) or re-reads (file) now; rejects with the reason (the old set stays). */
  update(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`provider ${this.name} is closed`));
    return this.#copy?.update() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.health?.close();
    this.#copy?.close();
    this.#listeners.clear();
    const all = [...this.#proxies, ...this.#retired];
    this.#retired.length = 0;
    await Promise.allSettled(all.map((o) => o.close()));
  }

  /** where an http provider keeps the ETag and Last-Modified of its copy (beside it) */
  get validatorsPath(): string | undefined {
    return this.#copy?.validatorsPath;
  }

  #applyMappings(mappings: readonly unknown[], earlier: readonly string[], source: string): void {
    const base: Path = ['proxy-providers', this.name, source === 'payload' ? 'payload' : 'proxies'];
    const { proxies, warnings } = selectProxies(mappings, this.#cfg, this.#deps.registry, this.#deps.taken, base, (proxy, via) => this.#dialerProblem(proxy, via));
    for (const w of [...earlier, ...warnings]) this.#warn(w);
    const built: Outbound[] = [];
    for (const p of proxies) {
      const def = this.#deps.registry.get(p.type);
      try {
        if (!def) throw new Error(`proxy type ${p.type} not supported yet`);
        built.push(def.create(p.options, this.#deps.outboundDeps));
      } catch (err) {
        this.#warn(`proxy "${p.name}": ${errorMessage(err)}, skipped`);
      }
    }
    if (built.length === 0) {
      const why = this.#cfg.filter.length > 0 ? 'no proxy matches the filter' : 'no valid proxy';
      throw new Error(`${source}: ${why} (of ${mappings.length} entries)`);
    }
    this.#retired.push(...this.#proxies);
    this.#proxies = Object.freeze(built);
    this.#deps.log.info(`[Provider] ${this.name}: ${built.length} proxies loaded from ${source}`);
    // as mihomo: a new set is checked at once (when the check runs on its own and, if lazy, was used)
    if (this.health?.wanted) void this.health.check();
    for (const l of [...this.#listeners]) {
      try {
        l();
      } catch (err) {
        this.#deps.log.warn(`[Provider] ${this.name}: change listener: ${errorMessage(err)}`);
      }
    }
  }

  /** mihomo's dialer-proxy for a provider proxy: an outbound of the config, not leading back to this provider. */
  #dialerProblem(proxy: string, via: string): string | undefined {
    if (!this.#deps.taken.has(via)) return `dialer-proxy "${via}" not found (proxy "${proxy}")`;
    const graph = this.#deps.dialerGraph;
    const cycle = graph === undefined ? undefined : providerDialerCycle(this.name, via, graph);
    return cycle === undefined ? undefined : `dialer-proxy cycle: ${cycle.join(' -> ')} (proxy "${proxy}")`;
  }

  #warn(message: string): void {
    this.#deps.log.warn(`[Provider] ${this.name}: ${message}`);
  }
}
