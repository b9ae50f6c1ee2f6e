import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { withOverrides, type ConfigOverrides } from '../cli/overrides.js';
import type { Logger } from '../common/log.js';
import type { Config, LoadResult } from '../config/load.js';
import { ConfigError } from '../core/config-issue.js';
import type { HostService } from '../core/service.js';
import type {
  ConfigPatch,
  ConnectionView,
  ControlPlane,
  DelayTest,
  DnsMessageView,
  DnsQueryView,
  GeneralView,
  LogView,
  LogViewLevel,
  MemoryView,
  ProviderView,
  ProxyView,
  ReloadResult,
  RuleView,
  TrafficView,
  WarmPoolView,
} from '../core/control-plane.js';
import { LOG_RANK, oneOf, RateSampler } from '../host/control.js';
import { Host } from '../host/host.js';
import { connectionViewOf } from '../host/views.js';
import { LOG_LEVELS, MODES } from '../config/general.js';
import { FakeIpSync } from './fake-ip-sync.js';
import { ClusterLedger } from './ledger.js';
import { checkToPrimary, type ToPrimary, type ToWorker } from './messages.js';

/** How often workers report their connections and bytes (ms). */
export const DEFAULT_REPORT_MS = 500;

/**
 * Measured in bench/multicore.ts (docs/benchmarks.md, "multi-core"): with SCHED_NONE each worker
 * accepts from the shared socket itself; with SCHED_RR the primary accepts every connection and
 * hands its fd to a worker over IPC. NODE_CLUSTER_SCHED_POLICY (rr | none), Node's own variable,
 * still overrides it.
 */
const SCHEDULING = cluster.SCHED_NONE;

/** A worker that lived less than this before exiting is restarted after a back-off. */
const QUICK_EXIT_MS = 5000;
const MAX_BACKOFF_MS = 30_000;

/** What starting the cluster needs: the config (validated once, here) and how to fork. */
export interface ClusterOptions {
  /** the config file's text, re-read by each worker (a Config holds no functions, but is big) */
  readonly yaml: string;
  /** the validated config with `overrides` applied */
  readonly config: Config;
  /** the load result `config` came from, when the caller has it (its rules are compiled already) */
  readonly loaded?: LoadResult;
  /** parts of the primary that follow the config (the REST controller, serving this ClusterControl) */
  readonly services?: readonly HostService<Config>[];
  readonly overrides: ConfigOverrides;
  /** worker processes (>= 1) */
  readonly count: number;
  readonly log: Logger;
  readonly reportMs?: number;
  /** the worker entry (default: worker-main.js beside this file) */
  readonly exec?: string;
  /** node options for workers (default: this process's) */
  readonly execArgv?: readonly string[];
  /** the home dir (-d), for the primary's view host and every worker: provider copies, selected.json */
  readonly homeDir?: string;
}

/** One live worker as the control reports it. */
export interface ClusterWorkerView {
  /** node:cluster worker id (a replacement gets a new one) */
  readonly id: number;
  readonly pid: number;
  /** every listener bound */
  readonly ready: boolean;
  readonly live: number;
  /** connections it reported opening since it started (one that opens and closes between two reports is only in the bytes) */
  readonly opened: number;
  readonly upload: number;
  readonly download: number;
}

/**
 * The primary's answer for the whole process: the same ControlPlane the single-process core
 * has. Connections and traffic come from the workers' reports; proxies, rules and the config
 * from a generation the primary builds itself (binding nothing); select, close, reload and
 * patch are carried out in every worker and given to later ones.
 */
export interface ClusterControl extends ControlPlane {
  /** bytes moved by every worker since the start, as of their last reports */
  totals(): { upload: number; download: number };
  workers(): ClusterWorkerView[];
  /** stops every worker (live connections get `graceMs`), then resolves */
  stop(graceMs: number): Promise<void>;
}

interface Slot {
  readonly worker: Worker;
  readonly startedAt: number;
  /** it said hello and was sent `start`: later messages reach it */
  greeted: boolean;
  ready: boolean;
}

/** What every asked worker answered. */
interface Answers {
  readonly ok: boolean;
  /** the failure messages, each with its worker */
  readonly messages: string[];
  /** summed counts (close-all) */
  readonly count: number;
}

interface PendingAck {
  readonly waiting: Set<number>;
  ok: boolean;
  readonly messages: string[];
  count: number;
  readonly resolve: (a: Answers) => void;
}

function workerEntry(): string {
  const self = import.meta.url;
  return fileURLToPath(new URL(self.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', self));
}

/** Forks, watches and replaces the workers; answers for them as a ClusterControl. */
class Primary implements ClusterControl {
  readonly #opts: ClusterOptions;
  readonly #log: Logger;
  /** the primary's own host: no listeners; its generation and selection store answer for the views */
  readonly #view: Host;
  /** the config text workers start from (the latest reload's) */
  #yaml: string;
  readonly #ledger = new ClusterLedger();
  readonly #slots = new Map<number, Slot>();
  readonly #pending = new Map<number, PendingAck>();
  readonly #logListeners = new Set<(e: LogView) => void>();
  readonly #rate = new RateSampler();
  readonly #respawns = new Set<NodeJS.Timeout>();
  /** the worker that binds the SOCKS5 UDP relays; a replacement inherits the role */
  #udpOwner: number | undefined;
  #seq = 0;
  #quickExits = 0;
  #started = false;
  #stopping: Promise<void> | undefined;
  #startupFailed: ((err: Error) => void) | undefined;
  #allReady: (() => void) | undefined;

  readonly #fakeIp: FakeIpSync;

  constructor(opts: ClusterOptions, view: Host, fakeIp: FakeIpSync) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#view = view;
    this.#yaml = opts.yaml;
    this.#fakeIp = fakeIp;
    fakeIp.attach(async (entries) => {
      await this.#ask(this.#greeted(), (seq) => ({ type: 'fake-ip', seq, replace: false, entries }));
    });
  }

  /** Sends every worker the whole fake-ip mapping (after a flush or a reload); resolves once applied. */
  async #syncFakeIp(): Promise<void> {
    this.#fakeIp.clear();
    const entries = this.#view.resolver.fakeIpEntries();
    await this.#ask(this.#greeted(), (seq) => ({ type: 'fake-ip', seq, replace: true, entries }));
  }

  /** Forks `count` workers and resolves once all are listening; rejects (all stopped) if one fails. */
  async start(): Promise<void> {
    const failed = new Promise<never>((_, reject) => (this.#startupFailed = reject));
    const allReady = new Promise<void>((resolve) => (this.#allReady = resolve));
    for (let i = 0; i < this.#opts.count; i++) this.#fork();
    try {
      await Promise.race([allReady, failed]);
    } catch (err) {
      await this.stop(0);
      throw err;
    } finally {
      this.#startupFailed = undefined;
      this.#allReady = undefined;
    }
    this.#started = true;
  }

  #fork(): void {
    const w = cluster.fork();
    const slot: Slot = { worker: w, startedAt: Date.now(), greeted: false, ready: false };
    this.#slots.set(w.id, slot);
    w.on('message', (raw: unknown) => this.#onMessage(slot, raw));
    w.on('error', (err) => this.#log.debug(`cluster: worker ${w.id} channel: ${err.message}`));
    w.on('exit', (code, signal) => this.#onExit(slot, code, signal));
  }

  /** Queues `m` for `w`; false only when the channel is gone (a full backlog still delivers). */
  #send(w: Worker, m: ToWorker): boolean {
    if (!w.isConnected()) return false;
    try {
      w.send(m);
      return true;
    } catch {
      return false; // the channel closed between the check and the send
    }
  }

  #onMessage(slot: Slot, raw: unknown): void {
    const checked = checkToPrimary(raw);
    if (!checked.ok) {
      this.#log.warn(`cluster: dropped a bad message from worker ${slot.worker.id}: ${checked.problem}`);
      return;
    }
    const m: ToPrimary = checked.message;
    const id = slot.worker.id;
    switch (m.type) {
      case 'hello':
        if (slot.greeted) break;
        slot.greeted = true;
        this.#udpOwner ??= id;
        // selections as of now; later switches follow on the same ordered channel
        this.#send(slot.worker, {
          type: 'start',
          yaml: this.#yaml,
          overrides: { ...this.#opts.overrides },
          selections: this.#view.selections.entries(),
          reportMs: this.#opts.reportMs ?? DEFAULT_REPORT_MS,
          udpRelays: this.#udpOwner === id,
          ...(this.#opts.homeDir !== undefined && { homeDir: this.#opts.homeDir }),
        });
        // mode and log level patched live since the last reload
        this.#send(slot.worker, { type: 'patch', seq: this.#seq++, mode: this.#view.mode, logLevel: this.#view.log.level, ipv6: this.#view.ipv6 });
        if (this.#logListeners.size > 0) this.#send(slot.worker, { type: 'logs', on: true });
        // the fake-ip mapping as of now; later mappings follow on the same ordered channel
        this.#send(slot.worker, { type: 'fake-ip', seq: this.#seq++, replace: true, entries: this.#view.resolver.fakeIpEntries() });
        break;
      case 'ready':
        slot.ready = true;
        this.#log.info(`cluster: worker ${id} (pid ${slot.worker.process.pid}) ready${this.#udpOwner === id ? ', it binds the UDP relays' : ''}`);
        if ([...this.#slots.values()].filter((s) => s.ready).length >= this.#opts.count) this.#allReady?.();
        break;
      case 'start-failed':
        this.#log.error(`cluster: worker ${id} (pid ${slot.worker.process.pid}) failed to start: ${m.message}`);
        this.#startupFailed?.(new Error(m.message));
        break;
      case 'report':
        this.#ledger.apply(id, m);
        break;
      case 'ack':
        this.#acked(m.seq, id, m.ok, m.message, m.count);
        break;
      case 'log':
        for (const fn of this.#logListeners) fn({ level: m.level, message: `[worker ${id}] ${m.message}`, time: m.time });
        break;
    }
  }

  #acked(seq: number, worker: number, ok: boolean, message?: string, count?: number): void {
    const p = this.#pending.get(seq);
    if (!p || !p.waiting.delete(worker)) return;
    p.ok &&= ok;
    if (message !== undefined) p.messages.push(`worker ${worker}: ${message}`);
    p.count += count ?? 0;
    if (p.waiting.size === 0) {
      this.#pending.delete(seq);
      p.resolve({ ok: p.ok, messages: p.messages, count: p.count });
    }
  }

  #onExit(slot: Slot, code: number | null, signal: string | null): void {
    const w = slot.worker;
    this.#slots.delete(w.id);
    this.#ledger.workerGone(w.id);
    if (this.#udpOwner === w.id) this.#udpOwner = undefined;
    for (const seq of [...this.#pending.keys()]) this.#acked(seq, w.id, true);
    if (this.#stopping) return;
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (!this.#started) {
      this.#startupFailed?.(new Error(`worker ${w.id} exited with ${how} during startup`));
      return;
    }
    const quick = Date.now() - slot.startedAt < QUICK_EXIT_MS;
    this.#quickExits = quick ? this.#quickExits + 1 : 0;
    const delay = quick ? Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.#quickExits - 1)) : 0;
    this.#log.warn(`cluster: worker ${w.id} (pid ${w.process.pid}) exited with ${how}, starting a replacement${delay ? ` in ${delay} ms` : ''}`);
    const t = setTimeout(() => {
      this.#respawns.delete(t);
      if (!this.#stopping) this.#fork();
    }, delay);
    this.#respawns.add(t);
  }

  /** Sends one request to `workers` and resolves with their answers (ok: all acknowledged it as done). */
  #ask(workers: readonly Worker[], make: (seq: number) => ToWorker): Promise<Answers> {
    const seq = this.#seq++;
    return new Promise((resolve) => {
      const p: PendingAck = { waiting: new Set(), ok: true, messages: [], count: 0, resolve };
      for (const w of workers) if (this.#send(w, make(seq))) p.waiting.add(w.id);
      if (p.waiting.size === 0) resolve({ ok: workers.length === 0, messages: [], count: 0 });
      else this.#pending.set(seq, p);
    });
  }

  /** every worker that was sent `start`: later requests reach it in order */
  #greeted(): Worker[] {
    return [...this.#slots.values()].filter((s) => s.greeted).map((s) => s.worker);
  }

  connections(): ConnectionView[] {
    return this.#ledger.connections().map((c) => connectionViewOf(c, c.start, c.worker));
  }

  totals(): { upload: number; download: number } {
    return this.#ledger.totals();
  }

  workers(): ClusterWorkerView[] {
    const stats = new Map(this.#ledger.workers().map((s) => [s.worker, s]));
    return [...this.#slots.values()].map((s) => {
      const st = stats.get(s.worker.id);
      return {
        id: s.worker.id,
        pid: s.worker.process.pid ?? -1,
        ready: s.ready,
        live: st?.live ?? 0,
        opened: st?.opened ?? 0,
        upload: st?.upload ?? 0,
        download: st?.download ?? 0,
      };
    });
  }

  proxies(): ProxyView[] {
    return this.#view.control.proxies();
  }

  proxy(name: string): ProxyView | undefined {
    return this.#view.control.proxy(name);
  }

  /** URL tests run in the primary itself: it has every outbound built (and dials nothing else) */
  delay(name: string, test: DelayTest): Promise<number | undefined> {
    return this.#view.control.delay(name, test);
  }

  groupDelay(group: string, test: DelayTest): Promise<Record<string, number> | undefined> {
    return this.#view.control.groupDelay(group, test);
  }

  async select(group: string, member: string): Promise<boolean> {
    // the primary's store is the one the workers copy; a worker not greeted yet gets it in `start`
    if (!(await this.#view.control.select(group, member))) return false;
    return (await this.#ask(this.#greeted(), (seq) => ({ type: 'select', seq, group, member }))).ok;
  }

  async closeConnection(id: string): Promise<boolean> {
    const owner = this.#ledger.ownerOf(id);
    const slot = owner === undefined ? undefined : this.#slots.get(owner);
    if (!slot) return false;
    return (await this.#ask([slot.worker], (seq) => ({ type: 'close-connection', seq, id }))).ok;
  }

  async closeAllConnections(): Promise<number> {
    return (await this.#ask(this.#greeted(), (seq) => ({ type: 'close-all', seq }))).count;
  }

  traffic(): TrafficView {
    const t = this.#ledger.totals();
    const r = this.#rate.sample(t);
    return { up: r.up, down: r.down, upTotal: t.upload, downTotal: t.download };
  }

  memory(): MemoryView {
    // the primary's own RSS; each worker's is its own process (visible in /proc by pid)
    return { inuse: process.memoryUsage.rss(), oslimit: 0 };
  }

  subscribeLogs(listener: (entry: LogView) => void, level?: LogViewLevel): () => void {
    const fn = (e: LogView) => {
      if (level === undefined || LOG_RANK[e.level] >= LOG_RANK[level]) listener(e);
    };
    const own = this.#view.control.subscribeLogs(fn, level);
    this.#logListeners.add(fn);
    if (this.#logListeners.size === 1) for (const w of this.#greeted()) this.#send(w, { type: 'logs', on: true });
    return () => {
      own();
      this.#logListeners.delete(fn);
      if (this.#logListeners.size === 0) for (const w of this.#greeted()) this.#send(w, { type: 'logs', on: false });
    };
  }

  rules(): RuleView[] {
    return this.#view.control.rules();
  }

  providers(): ProviderView[] {
    return this.#view.control.providers();
  }

  /**
   * Updates the view host's copy (what the API shows), then every worker's (each fetches or
   * re-reads; each keeps its own interval too). Rejects naming the workers where it failed.
   */
  async updateProvider(name: string): Promise<boolean> {
    if (!(await this.#view.control.updateProvider(name))) return false;
    const a = await this.#ask(this.#greeted(), (seq) => ({ type: 'update-provider', seq, name }));
    if (!a.ok) throw new Error(`provider ${name}: update failed in ${a.messages.join('; ')}`);
    return true;
  }

  /**
   * In the primary only: its generation's history and alive marks are the ones the API shows
   * (each worker's groups keep their own checks).
   */
  healthCheckProvider(name: string): Promise<boolean> {
    return this.#view.control.healthCheckProvider(name);
  }

  providerProxyDelay(provider: string, proxy: string, test: DelayTest): Promise<number | undefined> {
    return this.#view.control.providerProxyDelay(provider, proxy, test);
  }

  async unfix(group: string): Promise<boolean> {
    if (!(await this.#view.control.unfix(group))) return false;
    return (await this.#ask(this.#greeted(), (seq) => ({ type: 'unfix', seq, group }))).ok;
  }

  /** The view host downloads (the files are shared by the home directory); every worker then reloads to read them. */
  async updateGeo(): Promise<void> {
    await this.#view.control.updateGeo();
    await this.#reloadWorkers(this.#view.configText ?? this.#yaml);
  }

  /** Updates the view host's copy (the workers' rule-providers keep their own intervals). */
  updateRuleProvider(name: string): Promise<boolean> {
    return this.#view.control.updateRuleProvider(name);
  }

  config(): GeneralView {
    const v = this.#view.control.config();
    // the primary binds nothing: the listeners are the workers', at their configured addresses
    const listeners = this.#view.config.listeners.map((l) => ({ name: l.name, type: l.type, address: { host: l.listen, port: l.port } }));
    const portOf = (name: string) => listeners.find((l) => l.name === name)?.address.port ?? 0;
    return { ...v, listeners, port: portOf('DEFAULT-HTTP'), socksPort: portOf('DEFAULT-SOCKS'), mixedPort: portOf('DEFAULT-MIXED') };
  }

  async patchConfig(patch: ConfigPatch): Promise<void> {
    const mode = patch.mode === undefined ? undefined : oneOf('mode', patch.mode, MODES);
    const logLevel = patch.logLevel === undefined ? undefined : oneOf('log-level', patch.logLevel, LOG_LEVELS);
    const listenerKeys = patch.port !== undefined || patch.socksPort !== undefined || patch.mixedPort !== undefined || patch.allowLan !== undefined || patch.bindAddress !== undefined;
    if (listenerKeys) {
      // the view host edits the text and validates it; every worker then reloads the same text
      await this.#view.control.patchConfig(patch);
      await this.#reloadWorkers(this.#view.configText ?? this.#yaml);
      if (patch.ipv6 === undefined) return;
    }
    const ipv6 = patch.ipv6;
    await this.#view.control.patchConfig({ mode, logLevel, ipv6 });
    const a = await this.#ask(this.#greeted(), (seq) => ({ type: 'patch', seq, mode, logLevel, ipv6 }));
    if (!a.ok) throw new Error(`patch failed in ${a.messages.join('; ')}`);
  }

  async reload(yaml: string): Promise<ReloadResult> {
    const result = await this.#view.reload(yaml); // ConfigError: nothing changed anywhere
    await this.#reloadWorkers(yaml);
    return result;
  }

  async #reloadWorkers(yaml: string): Promise<void> {
    this.#yaml = yaml;
    const a = await this.#ask(this.#greeted(), (seq) => ({ type: 'reload', seq, yaml }));
    // a new fake-ip range starts new pools: the workers' follow the primary's (what it handed out meanwhile too)
    await this.#syncFakeIp();
    if (!a.ok) throw new ConfigError(a.messages.map((message) => ({ path: '', message })));
  }

  dnsQuery(name: string, type: 'A' | 'AAAA'): Promise<DnsQueryView> {
    return this.#view.control.dnsQuery(name, type);
  }

  /** Answered by the primary's DNS (the one fake-ip owner), once every worker has what it handed out. */
  async dnsExchange(name: string, type: string): Promise<DnsMessageView> {
    const m = await this.#view.control.dnsExchange!(name, type);
    await this.#fakeIp.settle();
    return m;
  }

  /** The primary's pools, then every worker's copy. */
  async flushFakeIpCache(): Promise<void> {
    await this.#view.control.flushFakeIpCache!();
    await this.#syncFakeIp();
  }

  async flushDnsCache(): Promise<void> {
    await this.#view.control.flushDnsCache();
    const a = await this.#ask(this.#greeted(), (seq) => ({ type: 'flush-dns', seq }));
    if (!a.ok) throw new Error(`DNS flush failed in ${a.messages.join('; ')}`);
  }

  warmPools(): WarmPoolView[] {
    return this.#view.control.warmPools();
  }

  stop(graceMs: number): Promise<void> {
    this.#stopping ??= (async () => {
      for (const t of this.#respawns) clearTimeout(t);
      this.#respawns.clear();
      const exits = [...this.#slots.values()].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.worker.process.exitCode !== null || s.worker.process.signalCode !== null) return resolve();
            s.worker.process.once('exit', () => resolve());
            // a worker that cannot be told (not listening yet, channel gone) gets SIGTERM, whose
            // default action ends it before its handlers exist; one that overruns is killed
            if (!s.greeted || !this.#send(s.worker, { type: 'stop', graceMs })) s.worker.process.kill('SIGTERM');
            const t = setTimeout(() => s.worker.process.kill('SIGKILL'), graceMs + 5000);
            s.worker.process.once('exit', () => clearTimeout(t));
          }),
      );
      await Promise.all(exits);
      await this.#view.close(0);
    })();
    return this.#stopping;
  }
}

/**
 * Starts the cluster: forks `count` workers (node:cluster, listen sockets shared), each running
 * a Host on the config, and resolves once all listen. Rejects, with every worker stopped, when
 * one fails to start (a bind error…). Call once per process.
 */
export async function startCluster(opts: ClusterOptions): Promise<ClusterControl> {
  if (!cluster.isPrimary) throw new Error('startCluster must run in the primary process');
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = SCHEDULING;
  cluster.setupPrimary({ exec: opts.exec ?? workerEntry(), execArgv: [...(opts.execArgv ?? process.execArgv)], silent: false });
  const transform = (c: Config) => withOverrides(c, opts.overrides);
  // the primary answers dns.listen itself: its fake-ip pools are the cluster's one pool
  const fakeIp = new FakeIpSync();
  const view = await Host.start(opts.loaded ?? opts.yaml, {
    log: opts.log,
    bind: false,
    transform,
    services: opts.services,
    homeDir: opts.homeDir,
    dnsListener: true,
    fakeIpRole: { owner: (ip, domain) => fakeIp.assigned(ip, domain) },
    dnsSettle: () => fakeIp.settle(),
  });
  const primary = new Primary(opts, view, fakeIp);
  try {
    await primary.start();
  } catch (err) {
    await view.close(0);
    throw err;
  }
  return primary;
}
