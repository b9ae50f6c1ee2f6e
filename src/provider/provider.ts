import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
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
import { fetchThrough, parseSubscriptionInfo } from './fetch.js';
import { payloadMappings, selectProxies } from './payload.js';

/** The largest validators file read back (ours are a few hundred bytes). */
const MAX_VALIDATORS_BYTES = 64 * 1024;

/** mihomo's timeout of one subscription fetch. */
export const DEFAULT_FETCH_TIMEOUT_MS = 20_000;

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

/** Writes a file atomically: a temp file beside it, then a rename over it. */
export async function writeAtomic(path: string, data: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
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
  #updatedAt = 0;
  #subscription: SubscriptionInfo | undefined;
  #hash: string | undefined;
  #etag: string | undefined;
  /** the server's Last-Modified for the copy, sent back as If-Modified-Since */
  #lastModified: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #inflight: Promise<void> | undefined;
  #closed = false;

  constructor(cfg: ProviderConfig, deps: ProviderDeps) {
    this.name = cfg.name;
    this.label = `provider(${cfg.name})`;
    this.vehicleType = VEHICLES[cfg.type];
    this.healthCheckConfig = cfg.healthCheck;
    this.#cfg = cfg;
    this.#deps = deps;
    this.path = providerPath(cfg, deps.homeDir);
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
    return this.#updatedAt;
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
        this.#updatedAt = Date.now();
      } catch (err) {
        this.#warn(errorMessage(err));
      }
      return;
    }
    try {
      await this.#readDisk();
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException)?.code === 'ENOENT';
      if (this.#cfg.type === 'file' || !missing) this.#warn(`${this.path}: ${missing ? 'no such file' : errorMessage(err)}`);
    }
  }

  /** Begins the work: an http provider fetches (now, or when its copy is `interval` old); a file provider re-reads each interval. */
  start(): void {
    if (this.#closed) return;
    this.health?.start();
    const intervalMs = this.#cfg.intervalSec * 1000;
    if (this.#cfg.type === 'http') {
      const age = this.#updatedAt === 0 ? Infinity : Date.now() - this.#updatedAt;
      this.#schedule(intervalMs > 0 && age < intervalMs ? intervalMs - age : 0);
    } else if (this.#cfg.type === 'file' && intervalMs > 0) {
      this.#schedule(intervalMs);
    }
  }

  /** Fetches (http) or re-reads (file) now; rejects with the reason (the old set stays). */
  update(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`provider ${this.name} is closed`));
    if (this.#cfg.type === 'inline') return Promise.resolve();
    this.#inflight ??= (this.#cfg.type === 'http' ? this.#fetch() : this.#readDisk()).finally(() => (this.#inflight = undefined));
    return this.#inflight;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.health?.close();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort(new Error('provider closed'));
    this.#listeners.clear();
    const all = [...this.#proxies, ...this.#retired];
    this.#retired.length = 0;
    await Promise.allSettled(all.map((o) => o.close()));
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.update().then(
        () => undefined,
        (err: unknown) => {
          if (!this.#closed) this.#deps.log.warn(`[Provider] ${this.name}: update failed: ${errorMessage(err)}`);
        },
      ).finally(() => {
        if (!this.#closed && this.#cfg.intervalSec > 0) this.#schedule(this.#cfg.intervalSec * 1000);
      });
    }, delayMs);
  }

  async #readDisk(): Promise<void> {
    const path = this.path!;
    const [buf, st] = await Promise.all([readFile(path), stat(path)]);
    if (this.#closed) return;
    this.#applyText(buf, 'file');
    this.#updatedAt = st.mtimeMs;
    if (this.#cfg.type === 'http') await this.#readValidators();
  }

  /** where an http provider keeps the ETag and Last-Modified of its copy (beside it) */
  get validatorsPath(): string | undefined {
    return this.#cfg.type === 'http' && this.path !== undefined ? `${this.path}.meta.json` : undefined;
  }

  /** The copy's ETag / Last-Modified from beside it, when they belong to this very copy (its hash). */
  async #readValidators(): Promise<void> {
    const file = this.validatorsPath;
    if (file === undefined) return;
    let meta: unknown;
    try {
      // a few hundred bytes when ours: anything big is not, and is never read whole
      if ((await stat(file)).size > MAX_VALIDATORS_BYTES) return;
      meta = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return; // missing or unreadable: the next fetch is unconditional but for the mtime
    }
    const m = meta as Partial<Record<'sha256' | 'etag' | 'lastModified', unknown>> | null;
    if (m === null || typeof m !== 'object' || m.sha256 !== this.#hash) return;
    this.#etag = typeof m.etag === 'string' && m.etag !== '' ? m.etag : undefined;
    this.#lastModified = typeof m.lastModified === 'string' && m.lastModified !== '' ? m.lastModified : undefined;
  }

  async #writeValidators(): Promise<void> {
    const file = this.validatorsPath;
    if (file === undefined || this.#hash === undefined) return;
    const body = { sha256: this.#hash, ...(this.#etag !== undefined && { etag: this.#etag }), ...(this.#lastModified !== undefined && { lastModified: this.#lastModified }) };
    try {
      await writeAtomic(file, `${JSON.stringify(body)}\n`);
    } catch (err) {
      this.#warn(`${file}: ${errorMessage(err)}`);
    }
  }

  async #fetch(): Promise<void> {
    const via = this.#cfg.proxy ?? 'DIRECT';
    const outbound = this.#deps.lookup(via);
    if (!outbound) throw new Error(`proxy "${via}" not found`);
    const headers: Record<string, readonly string[]> = { ...this.#cfg.header };
    if (this.#hash !== undefined) {
      if (this.#etag !== undefined) headers['if-none-match'] = [this.#etag];
      if (this.#lastModified !== undefined) headers['if-modified-since'] = [this.#lastModified];
      else if (this.#updatedAt > 0) headers['if-modified-since'] = [new Date(this.#updatedAt).toUTCString()];
    }
    const abort = new AbortController();
    this.#abort = abort;
    let res: Awaited<ReturnType<typeof fetchThrough>>;
    try {
      res = await fetchThrough(outbound, {
        url: this.#cfg.url!,
        headers,
        timeoutMs: this.#deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
        sizeLimit: this.#cfg.sizeLimit,
        signal: abort.signal,
        ca: this.#deps.ca,
      });
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
    if (this.#closed) return;
    const info = res.headers['subscription-userinfo'];
    if (typeof info === 'string') this.#subscription = parseSubscriptionInfo(info) ?? this.#subscription;
    if (res.status === 304 && this.#hash !== undefined) {
      this.#updatedAt = Date.now();
      if (this.path) await utimes(this.path, new Date(), new Date()).catch(() => undefined);
      this.#deps.log.debug(`[Provider] ${this.name}: not modified`);
      return;
    }
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
    const changed = this.#applyText(res.body, 'fetch');
    const etag = res.headers.etag;
    const lastModified = res.headers['last-modified'];
    this.#etag = typeof etag === 'string' && etag !== '' ? etag : undefined;
    this.#lastModified = typeof lastModified === 'string' && lastModified !== '' ? lastModified : undefined;
    this.#updatedAt = Date.now();
    // the validators beside the copy, so a restart asks If-None-Match / If-Modified-Since; written
    // first: they name the copy's hash, so a crash before the copy is renamed leaves them unused
    await this.#writeValidators();
    if (changed && this.path) await writeAtomic(this.path, res.body);
    else if (this.path) await utimes(this.path, new Date(), new Date()).catch(() => undefined);
  }

  /** Parses a payload and swaps the set in; false when it is the payload already loaded. Throws when it has no valid proxy. */
  #applyText(buf: Buffer, source: string): boolean {
    const hash = createHash('sha256').update(buf).digest('hex');
    if (hash === this.#hash) return false;
    const { mappings, warnings } = payloadMappings(buf.toString('utf8'));
    this.#applyMappings(mappings, warnings, source);
    this.#hash = hash;
    return true;
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
