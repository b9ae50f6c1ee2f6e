import { LIMIT_LOG_INTERVAL_MS, OncePerInterval } from '../common/once-per-interval.js';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createLogger, type LogEntry, type Logger } from '../common/log.js';
import { loadConfig, type Config, type LoadResult } from '../config/load.js';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import type { ConnectionView, ControlPlane, LogView, ReloadResult } from '../core/control-plane.js';
import { errorMessage } from '../core/errors.js';
import type { Inbound } from '../core/inbound.js';
import type { HostService } from '../core/service.js';
import { HostResolver, type FakeIpRole } from '../dns/host-resolver.js';
import { DnsServer } from '../dns/server.js';
import { createSystemResolver } from '../dns/system-resolver.js';
import { createGroupRegistry } from '../group/index.js';
import type { GroupRegistry } from '../group/registry.js';
import { SelectionStore } from '../group/selection-store.js';
import { DelayHistory } from '../health/history.js';
import { createListenerRegistry, type ListenerContext, type ListenerRegistry } from '../inbound/registry.js';
import { createRegistry } from '../protocol/index.js';
import type { ProxyRegistry } from '../protocol/registry.js';
import { ruleCompiler, type RuleDeps } from '../rule/parse.js';
import { createSystemDialer } from '../transport/system-dialer.js';
import { WarmPoolRegistry } from '../transport/warm-pool-registry.js';
import type { Mode } from '../tunnel/route.js';
import { DialStats } from '../tunnel/dial-stats.js';
import { Tracker } from '../tunnel/tracker.js';
import { Tunnel } from '../tunnel/tunnel.js';
import { DEFAULT_GEO_CONFIG } from '../config/geo.js';
import { geoDownloader } from '../geo/download.js';
import { GeoCache } from '../geo/cache.js';
import type { GeoDatabases } from '../geo/geo-data.js';
import type { GeoDownload } from '../geo/prepare.js';
import { GEO_UPDATE_SKIP, routedOutbound, updateGeoFiles } from '../geo/update.js';
import { createDirect } from '../protocol/direct/outbound.js';
import { buildGeneration } from './build.js';
import { HostControl } from './control.js';
import type { Generation } from './generation.js';
import { ListenerSet, type ListenerChange } from './listeners.js';
import { connectionView, pruneSelections } from './views.js';

/** Options for starting a host. */
export interface HostOptions {
  /** the logger (default: mihomo-style lines on stdout at the config's level) */
  readonly log?: Logger;
  readonly registry?: ProxyRegistry;
  readonly groups?: GroupRegistry;
  readonly listeners?: ListenerRegistry;
  /**
   * Whether this core binds the SOCKS5 UDP relays (default true). In a cluster only one worker
   * does, so each UDP flow stays in one process (one NAT table, one source port); the others
   * announce the same port in their ASSOCIATE replies.
   */
  readonly udpRelays?: boolean;
  /**
   * Whether this host binds the config's listeners (default true). The cluster's primary runs
   * one that does not: it builds each generation only to answer the control plane.
   */
  readonly bind?: boolean;
  /** applied to every config this host loads (the CLI's flags over the file's keys) */
  readonly transform?: (config: Config) => Config;
  /** parts that follow the config across reloads (the REST controller), applied after each swap */
  readonly services?: readonly HostService<Config>[];
  /** extra trust anchors for https URL tests (tests run a private CA) */
  readonly probeCa?: string | Buffer;
  /**
   * mihomo's home directory (`-d`): relative provider paths and the provider cache (proxies/)
   * live under it (default: the working directory); with profile.store-selected (mihomo's
   * default) select choices are kept in its `selected.json` and read back at start. Absent:
   * choices live in memory only.
   */
  readonly homeDir?: string;
  /** one provider fetch's timeout (default 20 s, as mihomo) */
  readonly providerFetchTimeoutMs?: number;
  /**
   * Whether this host runs the `dns.listen` server (default: when it binds its listeners and the
   * UDP relays). In a cluster the primary runs it (its pools are the fake-ip owner) and no worker does.
   */
  readonly dnsListener?: boolean;
  /** a cluster's fake-ip pools: the primary's own them, the workers' copy them (dns/host-resolver.ts) */
  readonly fakeIpRole?: FakeIpRole;
  /** awaited before each DNS listener answer leaves (the primary: every worker has its new fake-ip mappings) */
  readonly dnsSettle?: () => Promise<void>;
}

/** The file in the home directory where choices are kept (profile.store-selected). */
export const SELECTED_FILE = 'selected.json';

/** The typed events of a running core (library face). */
export interface HostEvents {
  'connection-opened': [ConnectionView];
  'connection-closed': [ConnectionView];
  log: [LogView];
  'config-reloaded': [ReloadResult];
}

/** A config to run: YAML text (mihomo's format), a loaded Config, or a load result. */
export type ConfigInput = string | Config | LoadResult;

/**
 * The long-lived core: owns what outlives a config (logger, resolver, dialer, warm pools,
 * tracker, tunnel, the store of selections, the listener set, the control plane) and runs one
 * generation at a time. `reload()` builds the next generation aside and swaps it in one step;
 * the old one retires when its last connection ends.
 */
export class Host {
  readonly log: Logger;
  readonly tracker = new Tracker();
  readonly selections = new SelectionStore();
  /** every proxy's last URL tests, by name (kept across reloads while the name exists) */
  readonly delays = new DelayHistory();
  /** the tunnel's dial latencies per proxy (/metrics) */
  readonly dialStats = new DialStats();
  readonly probeCa: string | Buffer | undefined;
  readonly warmPools: WarmPoolRegistry;
  /** the only surface the API, CLI, library and tests drive the core through */
  readonly control: ControlPlane;
  readonly events = new EventEmitter<HostEvents>();
  /** the one resolver every dial, rule and health check uses (the live DNS, or the system's) */
  readonly resolver: HostResolver;
  /** `dns.listen` (bound only by a host that binds its listeners and the UDP relays) */
  readonly dnsServer: DnsServer | undefined;
  readonly #registry: ProxyRegistry;
  readonly #groups: GroupRegistry;
  readonly #listeners: ListenerSet;
  readonly #tunnel: Tunnel;
  readonly #udpRelays: boolean;
  readonly #bind: boolean;
  readonly #transform: ((config: Config) => Config) | undefined;
  #services: readonly HostService<Config>[];
  readonly #dialer: ReturnType<typeof createSystemDialer>;
  readonly #directDialer: ReturnType<typeof createSystemDialer>;
  readonly #homeDir: string | undefined;
  readonly #fetchTimeoutMs: number | undefined;
  #gen: Generation | undefined;
  /** the generation being swapped in while its listeners bind (the first one only routes by it) */
  #pending: Generation | undefined;
  /** generations replaced but not closed yet */
  readonly #retiring = new Set<Generation>();
  #nextId = 1;
  #mode: Mode = 'rule';
  /** geo downloads: DIRECT before the first generation, then by its rules (as mihomo's tunnel) */
  readonly #geoDownload: GeoDownload;
  #geoUpdating = false;
  /** geo files and category sets kept across reloads while the files do not change */
  readonly #geoCache = new GeoCache();
  #ipv6 = true;
  /** the YAML text of the running config, when it came as text (PATCH of ports edits it) */
  #text: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(opts: HostOptions, log: Logger) {
    this.log = log;
    this.#registry = opts.registry ?? createRegistry();
    this.#groups = opts.groups ?? createGroupRegistry();
    this.#udpRelays = opts.udpRelays ?? true;
    this.#transform = opts.transform;
    this.#bind = opts.bind ?? true;
    this.#services = opts.services ?? [];
    this.probeCa = opts.probeCa;
    this.#homeDir = opts.homeDir;
    this.#fetchTimeoutMs = opts.providerFetchTimeoutMs;
    this.resolver = new HostResolver(createSystemResolver({ ipv6: true, log }), opts.fakeIpRole);
    // proxies reach their servers by proxy-server-nameserver; DIRECT gets its own dialer (build.ts)
    this.#dialer = createSystemDialer({ resolver: this.resolver.proxyServer });
    this.#directDialer = createSystemDialer({ resolver: this.resolver.direct });
    this.dnsServer = (opts.dnsListener ?? (this.#bind && this.#udpRelays)) ? new DnsServer(() => this.resolver.runtime, log, { settle: opts.dnsSettle }) : undefined;
    if (this.dnsServer) this.#services = [this.dnsServer, ...this.#services];
    this.warmPools = new WarmPoolRegistry({ log, dialer: this.#dialer });
    this.#listeners = new ListenerSet(opts.listeners ?? createListenerRegistry(), log);
    // before the first swap, a listener bound by the first reload routes by the generation being
    // swapped in (a connection can arrive between its bind and the swap)
    this.#tunnel = new Tunnel({ routing: { current: () => (this.#gen ?? this.#pending)! }, tracker: this.tracker, log,
      dialStats: this.dialStats,
      prepare: (meta) => this.resolver.prepare(meta),
      resolveIp: (name) => this.resolver.resolveIp(name),
    });
    const direct = createDirect('DIRECT', { resolver: this.resolver, log, dialer: this.#dialer });
    const geoOutbound = routedOutbound(async (meta) => (this.#gen ? (await this.#gen.router.route(meta)).outbound : direct));
    this.#geoDownload = geoDownloader({ log, outbound: () => geoOutbound, ca: this.probeCa });
    this.control = new HostControl(this);
    // a home dir that went read-only or full: the choice holds in memory, one line per interval says so
    let failed: { err: Error; file: string } | undefined;
    const writeFailures = new OncePerInterval(LIMIT_LOG_INTERVAL_MS, (n) => {
      if (failed) log.warn(`profile.store-selected: cannot write ${failed.file}: ${failed.err.message} (${n} failed writes since the last report; choices hold until a restart)`);
    });
    this.selections.onWriteError = (err, file) => {
      failed = { err, file };
      writeFailures.hit();
    };
    this.#wireEvents();
  }

  /**
   * Starts a core on `config`: builds its generation and binds every listener. Throws
   * ConfigError listing every problem (nothing left running).
   */
  static async start(config: ConfigInput, opts: HostOptions = {}): Promise<Host> {
    const host = new Host(opts, opts.log ?? createLogger('info'));
    try {
      await host.reload(config);
    } catch (err) {
      await host.close(0);
      throw err;
    }
    return host;
  }

  /**
   * Checks a config as `-t` does: loads it and builds its generation (every proxy, group and
   * rule), binding nothing. Resolves with the load result; throws ConfigError with every problem.
   */
  static async check(config: ConfigInput, opts: HostOptions = {}): Promise<LoadResult> {
    const host = new Host(opts, opts.log ?? createLogger('silent'));
    try {
      const loaded = host.#load(config);
      const gen = await host.#build(loaded, true);
      await gen.close();
      return loaded;
    } finally {
      await host.close(0);
    }
  }

  /** the generation new connections are routed by */
  get generation(): Generation {
    if (!this.#gen) throw new Error('host has no config yet');
    return this.#gen;
  }

  /** the running config */
  get config(): Config {
    return this.generation.config;
  }

  /** the YAML text of the running config, when it was given as text */
  get configText(): string | undefined {
    return this.#text;
  }

  /** generations replaced and still carrying connections */
  get retiring(): readonly Generation[] {
    return [...this.#retiring];
  }

  get mode(): Mode {
    return this.#mode;
  }

  /** Changes the routing mode live (the next connection routes by it). */
  set mode(m: Mode) {
    this.#mode = m;
  }

  /** whether names resolve to IPv6 too: the config's `ipv6`, or a PATCH /configs since */
  get ipv6(): boolean {
    return this.#ipv6;
  }

  set ipv6(on: boolean) {
    this.#ipv6 = on;
    this.resolver.setIpv6(on);
  }

  /** the started listeners */
  get inbounds(): readonly Inbound[] {
    return this.#listeners.inbounds();
  }

  /** A started listener by name. */
  inbound(name: string): Inbound | undefined {
    return this.#listeners.inbounds().find((i) => i.name === name);
  }

  /** each started listener with its config */
  listenerEntries(): ReturnType<ListenerSet['entries']> {
    return this.#listeners.entries();
  }

  /**
   * Swaps in a new config. Parses and builds the new generation aside and binds its new
   * listeners; any error and nothing changed (every error in one ConfigError). Then, in one
   * step: new connections route by the new rules, mode and log level apply, selections of groups
   * that still exist carry over, changed listeners are rebound and removed ones closed. Live
   * connections keep the outbounds they dialed; the old generation closes after its last one.
   * Reloads run one at a time, in call order.
   */
  reload(config: ConfigInput): Promise<ReloadResult> {
    const run = this.#queue.then(() => this.#reload(config));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(input: ConfigInput): Promise<ReloadResult> {
    if (this.#closing) throw new Error('host is closed');
    const loaded = this.#load(input);
    const config = loaded.config;
    // proxies declare their pools with the new settings; put back if the build fails
    const warmBefore = this.warmPools.defaults;
    this.warmPools.setDefaults(config.general.warmPool);
    const gen = await this.#build(loaded).catch((err: unknown) => {
      this.warmPools.setDefaults(warmBefore);
      throw err;
    });
    const ctx: ListenerContext = { handler: this.#tunnel, log: this.log, general: config.general, udpRelays: this.#udpRelays };
    let change: ListenerChange | undefined;
    this.#pending = gen;
    try {
      if (this.#bind) change = await this.#listeners.prepare(config.listeners, ctx);
    } catch (err) {
      this.warmPools.setDefaults(warmBefore);
      await gen.close();
      throw err;
    } finally {
      this.#pending = undefined;
    }
    // the swap: from here on, nothing can fail the reload
    this.#nextId++;
    const old = this.#gen;
    this.#gen = gen;
    this.#mode = config.general.mode;
    this.log.level = config.general.logLevel;
    this.resolver.setIpv6(config.general.ipv6);
    this.#ipv6 = config.general.ipv6;
    this.#tunnel.tcpIdleTimeoutMs = config.general.tcpIdleTimeoutMs;
    this.resolver.use(gen.dns, config.dns.hosts);
    this.#text = loaded.text;
    this.#storeSelections(config);
    pruneSelections(gen, this.selections);
    this.delays.prune((name) => gen.outbounds.has(name));
    const listeners = change ? await change.commit() : { kept: [], rebound: [], started: [], closed: [], failed: [] };
    await this.#applyServices(config);
    void gen.start();
    if (old) this.#retire(old);
    const result: ReloadResult = { generation: gen.id, warnings: loaded.warnings, listeners };
    if (old) this.log.info(`configuration reloaded (generation ${gen.id}); generation ${old.id} retires with ${old.live} live connections`);
    this.events.emit('config-reloaded', result);
    return result;
  }

  /** profile.store-selected: keep choices in the home directory's selected.json (read back the first time). */
  #storeSelections(config: Config): void {
    if (this.#homeDir === undefined) return;
    if (!config.general.storeSelected) return this.selections.detach();
    this.selections.attach(join(this.#homeDir, SELECTED_FILE));
    if (this.selections.lastError) this.log.warn(`profile.store-selected: ${errorMessage(this.selections.lastError)}`);
  }

  async #applyServices(config: Config): Promise<void> {
    const results = await Promise.allSettled(this.#services.map((s) => s.apply(config)));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.error(`${this.#services[i].label}: ${errorMessage(r.reason)}`);
    });
  }

  /**
   * Downloads the geo databases the running rules use again (POST /configs/geo, geo-auto-update)
   * and, when one changed, reloads the running config so the rules bind to the new data. A bad
   * download leaves the old file and the running rules as they were.
   */
  async updateGeo(): Promise<void> {
    const gen = this.generation;
    if (this.#geoUpdating) throw new Error(GEO_UPDATE_SKIP);
    this.#geoUpdating = true;
    try {
      this.log.info('[GEO] Start updating GEO database');
      const kinds = (gen.geo as GeoDatabases | undefined)?.kinds ?? [];
      const homeDir = this.#homeDir ?? process.cwd();
      const changed = await updateGeoFiles(gen.config.geo ?? DEFAULT_GEO_CONFIG, kinds, { homeDir, log: this.log, download: this.#geoDownload });
      if (changed && this.#gen === gen) await this.reload(this.#text ?? gen.config);
    } finally {
      this.#geoUpdating = false;
    }
  }

  /** `offline` (-t): nothing is downloaded, a missing geo database is an error */
  #build(loaded: HostLoadResult, offline = false): Promise<Generation> {
    return buildGeneration(this.#nextId, loaded.config, loaded.rules, {
      geoDownload: offline ? undefined : this.#geoDownload,
      geoCache: this.#geoCache,
      geoUpdate: () => this.updateGeo(),
      ruleDeps: loaded.ruleDeps,
      proxies: this.#registry,
      groups: this.#groups,
      resolver: this.resolver,
      dialer: this.#dialer,
      directDialer: this.#directDialer,
      hostByIp: (ip) => this.resolver.hostByIp(ip),
      log: this.log,
      warmPools: this.warmPools,
      selections: this.selections,
      delays: this.delays,
      probeCa: this.probeCa,
      mode: () => this.#mode,
      homeDir: this.#homeDir,
      providerFetchTimeoutMs: this.#fetchTimeoutMs,
      previousRuleSets: this.#gen?.ruleSets,
    });
  }

  #retire(g: Generation): void {
    this.#retiring.add(g);
    g.retire().then(
      () => this.#retiring.delete(g),
      (err: unknown) => {
        this.#retiring.delete(g);
        this.log.warn(`generation ${g.id}: retire: ${errorMessage(err)}`);
      },
    );
  }

  /**
   * Loads input into a config and its compiled rules. Rules compiled by someone else without
   * this load's RuleDeps (a LoadResult from `loadConfig`) are compiled again by the build.
   */
  #load(input: ConfigInput): HostLoadResult {
    let loaded: HostLoadResult;
    if (typeof input === 'string') loaded = loadText(input, this.#registry, this.#groups);
    else if ('config' in input && 'warnings' in input) loaded = 'ruleDeps' in input ? (input as HostLoadResult) : { ...input, rules: undefined, ruleDeps: {} };
    else loaded = { config: input, warnings: [], ruleDeps: {} };
    return this.#transform ? { ...loaded, config: this.#transform(loaded.config) } : loaded;
  }

  /** Connection and log events are wired only while someone listens (they cost per connection). */
  #wireEvents(): void {
    let unwatch: (() => void) | undefined;
    let unlog: (() => void) | undefined;
    const sync = (): void => {
      const conns = this.events.listenerCount('connection-opened') + this.events.listenerCount('connection-closed') > 0;
      if (conns && !unwatch) {
        unwatch = this.tracker.watch({
          opened: (c) => this.events.emit('connection-opened', connectionView(c)),
          closed: (c) => this.events.emit('connection-closed', connectionView(c)),
        });
      } else if (!conns && unwatch) {
        unwatch();
        unwatch = undefined;
      }
      const logs = this.events.listenerCount('log') > 0;
      if (logs && !unlog) unlog = this.log.subscribe((e: LogEntry) => this.events.emit('log', { level: e.level, message: e.message, time: e.time.getTime() }));
      else if (!logs && unlog) {
        unlog();
        unlog = undefined;
      }
    };
    const plain = this.events as EventEmitter;
    plain.on('newListener', () => queueMicrotask(sync));
    plain.on('removeListener', () => queueMicrotask(sync));
  }

  /**
   * Stops listening, lets live connections finish for up to `graceMs`, then closes the rest,
   * every generation, the warm pools and the resolver.
   */
  close(graceMs = 3000): Promise<void> {
    this.#closing ??= (async () => {
      await this.#queue;
      await Promise.allSettled(this.#services.map((s) => s.close()));
      await this.#listeners.close();
      const deadline = Date.now() + graceMs;
      while (this.tracker.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      this.tracker.closeAll();
      this.#tunnel.close();
      await Promise.allSettled([...this.#retiring, ...(this.#gen ? [this.#gen] : [])].map((g) => g.close()));
      this.warmPools.close();
      this.resolver.close();
    })();
    return this.#closing;
  }
}

/**
 * A load as the host runs it: `ruleDeps` is the one object this load's rules were compiled
 * with; the build fills its late-bound fields (geo data, rule-sets…) before the generation routes.
 */
export interface HostLoadResult extends LoadResult {
  readonly ruleDeps: RuleDeps;
}

/** Loads YAML text with the host's proxy and group types, compiling each rule line once. */
export function loadText(text: string, registry: ProxyRegistry = createRegistry(), groups: GroupRegistry = createGroupRegistry()): HostLoadResult {
  const ruleDeps: RuleDeps = {};
  return { ...loadConfig(text, { registry, groupTypes: groups.schemas(), compileRule: ruleCompiler(ruleDeps) }), ruleDeps };
}

/** The issues of a failed load or build, for callers that print them. */
export function issuesOf(err: unknown): readonly ConfigIssue[] {
  return err instanceof ConfigError ? err.issues : [{ path: '', message: errorMessage(err) }];
}
