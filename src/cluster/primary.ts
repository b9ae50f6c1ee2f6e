import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { selectGroups } from '../app.js';
import type { ConfigOverrides } from '../cli/overrides.js';
import type { Logger } from '../common/log.js';
import type { Config } from '../config/load.js';
import { ClusterLedger, type ClusterConnection } from './ledger.js';
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
  readonly overrides: ConfigOverrides;
  /** worker processes (>= 1) */
  readonly count: number;
  readonly log: Logger;
  readonly reportMs?: number;
  /** the worker entry (default: worker-main.js beside this file) */
  readonly exec?: string;
  /** node options for workers (default: this process's) */
  readonly execArgv?: readonly string[];
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
 * The primary's answer for the whole process, for the REST API: connections and traffic of
 * every worker, and select-group switches applied in every worker (and given to later ones).
 */
export interface ClusterControl {
  /** every live connection, as of the workers' last reports */
  connections(): ClusterConnection[];
  /** bytes moved by every worker since the start, as of their last reports */
  totals(): { upload: number; download: number };
  workers(): ClusterWorkerView[];
  /** the member a select group is on (its first member until switched); undefined for no such group */
  now(group: string): string | undefined;
  /**
   * Switches a select group in every worker; resolves once each live worker applied it.
   * false when the group or the member does not exist.
   */
  select(group: string, member: string): Promise<boolean>;
  /** closes one connection in the worker holding it; false when no worker reported it */
  closeConnection(id: string): Promise<boolean>;
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

interface PendingAck {
  readonly waiting: Set<number>;
  ok: boolean;
  readonly resolve: (ok: boolean) => void;
}

function workerEntry(): string {
  const self = import.meta.url;
  return fileURLToPath(new URL(self.endsWith('.ts') ? './worker-main.ts' : './worker-main.js', self));
}

/** Forks, watches and replaces the workers; answers for them as a ClusterControl. */
class Primary implements ClusterControl {
  readonly #opts: ClusterOptions;
  readonly #log: Logger;
  readonly #groups: Map<string, readonly string[]>;
  readonly #ledger = new ClusterLedger();
  readonly #slots = new Map<number, Slot>();
  readonly #selections = new Map<string, string>();
  readonly #pending = new Map<number, PendingAck>();
  readonly #respawns = new Set<NodeJS.Timeout>();
  /** the worker that binds the SOCKS5 UDP relays; a replacement inherits the role */
  #udpOwner: number | undefined;
  #seq = 0;
  #quickExits = 0;
  #started = false;
  #stopping: Promise<void> | undefined;
  #startupFailed: ((err: Error) => void) | undefined;
  #allReady: (() => void) | undefined;

  constructor(opts: ClusterOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#groups = selectGroups(opts.config);
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
          yaml: this.#opts.yaml,
          overrides: { ...this.#opts.overrides },
          selections: [...this.#selections],
          reportMs: this.#opts.reportMs ?? DEFAULT_REPORT_MS,
          udpRelays: this.#udpOwner === id,
        });
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
        this.#acked(m.seq, id, m.ok);
        break;
    }
  }

  #acked(seq: number, worker: number, ok: boolean): void {
    const p = this.#pending.get(seq);
    if (!p || !p.waiting.delete(worker)) return;
    p.ok &&= ok;
    if (p.waiting.size === 0) {
      this.#pending.delete(seq);
      p.resolve(p.ok);
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

  /** Sends one request to `workers` and resolves with whether all acknowledged it as done. */
  #ask(workers: readonly Worker[], make: (seq: number) => ToWorker): Promise<boolean> {
    const seq = this.#seq++;
    return new Promise((resolve) => {
      const p: PendingAck = { waiting: new Set(), ok: true, resolve };
      for (const w of workers) if (this.#send(w, make(seq))) p.waiting.add(w.id);
      if (p.waiting.size === 0) resolve(workers.length > 0 ? false : true);
      else this.#pending.set(seq, p);
    });
  }

  connections(): ClusterConnection[] {
    return this.#ledger.connections();
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

  now(group: string): string | undefined {
    const members = this.#groups.get(group);
    return members === undefined ? undefined : (this.#selections.get(group) ?? members[0]);
  }

  async select(group: string, member: string): Promise<boolean> {
    if (!this.#groups.get(group)?.includes(member)) return false;
    this.#selections.set(group, member);
    // a worker not greeted yet gets the selection in its `start` message
    const workers = [...this.#slots.values()].filter((s) => s.greeted).map((s) => s.worker);
    return this.#ask(workers, (seq) => ({ type: 'select', seq, group, member }));
  }

  async closeConnection(id: string): Promise<boolean> {
    const owner = this.#ledger.ownerOf(id);
    const slot = owner === undefined ? undefined : this.#slots.get(owner);
    if (!slot) return false;
    return this.#ask([slot.worker], (seq) => ({ type: 'close-connection', seq, id }));
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
    })();
    return this.#stopping;
  }
}

/**
 * Starts the cluster: forks `count` workers (node:cluster, listen sockets shared), each running
 * an App on the config, and resolves once all listen. Rejects, with every worker stopped, when
 * one fails to start (a bind error…). Call once per process.
 */
export async function startCluster(opts: ClusterOptions): Promise<ClusterControl> {
  if (!cluster.isPrimary) throw new Error('startCluster must run in the primary process');
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = SCHEDULING;
  cluster.setupPrimary({ exec: opts.exec ?? workerEntry(), execArgv: [...(opts.execArgv ?? process.execArgv)], silent: false });
  const primary = new Primary(opts);
  await primary.start();
  return primary;
}
