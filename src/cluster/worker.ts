import { App } from '../app.js';
import { withOverrides } from '../cli/overrides.js';
import { createLogger, type Logger } from '../common/log.js';
import { loadConfig } from '../config/load.js';
import { ConfigError, formatIssue } from '../core/config-issue.js';
import { errorMessage } from '../core/errors.js';
import { SelectGroup } from '../group/select.js';
import { createRegistry } from '../protocol/index.js';
import { ruleLineProblem } from '../rule/parse.js';
import { checkToWorker, type ToPrimary, type ToWorker } from './messages.js';
import { TrackerReporter } from './reporter.js';

/** How long a worker whose primary vanished waits for its connections before exiting. */
const ORPHAN_GRACE_MS = 1000;

/**
 * One cluster worker: waits for the primary's `start`, runs an App on the shared listeners,
 * reports its tracker on an interval, applies selections and closes connections on request,
 * and stops gracefully on `stop` (or SIGTERM). SIGINT is left to the primary, which a terminal's
 * Ctrl-C also reaches. If the primary disappears, the worker closes and exits.
 */
export class ClusterWorker {
  #log: Logger = createLogger('info');
  #app: App | undefined;
  #reporter: TrackerReporter | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** the selections to apply, including those received while the App was starting */
  readonly #selections = new Map<string, string>();
  #stopping: Promise<void> | undefined;

  /** Wires the IPC channel and the signals; the worker then runs until told to stop. */
  run(): void {
    process.on('message', (raw: unknown) => this.#onMessage(raw));
    process.on('disconnect', () => void this.#stop(ORPHAN_GRACE_MS, 0));
    process.on('SIGINT', () => {});
    process.on('SIGTERM', () => void this.#stop(3000, 0));
    void this.#send({ type: 'hello' });
  }

  /** Sends `m`; resolves once it is written (or at once when the channel is gone). */
  #send(m: ToPrimary): Promise<void> {
    if (!process.connected || !process.send) return Promise.resolve();
    return new Promise((resolve) => {
      process.send!(m, undefined, {}, () => resolve());
    });
  }

  #onMessage(raw: unknown): void {
    const checked = checkToWorker(raw);
    if (!checked.ok) {
      this.#log.warn(`cluster worker: dropped a bad message from the primary: ${checked.problem}`);
      return;
    }
    const m = checked.message;
    switch (m.type) {
      case 'start':
        void this.#start(m);
        break;
      case 'select':
        void this.#send({ type: 'ack', seq: m.seq, ok: this.#select(m.group, m.member) });
        break;
      case 'close-connection': {
        const c = this.#app?.tracker.get(m.id);
        c?.close();
        void this.#send({ type: 'ack', seq: m.seq, ok: c !== undefined });
        break;
      }
      case 'stop':
        void this.#stop(m.graceMs, 0);
        break;
    }
  }

  async #start(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
    if (this.#app || this.#stopping) return;
    const registry = createRegistry();
    try {
      // the primary validated this text already (and printed its warnings)
      const config = withOverrides(loadConfig(m.yaml, { registry, checkRule: ruleLineProblem }).config, m.overrides);
      this.#log = createLogger(config.general.logLevel);
      for (const [group, member] of m.selections) this.#selections.set(group, member);
      const app = await App.start(config, { log: this.#log, registry, udpRelays: m.udpRelays });
      if (this.#stopping) {
        await app.close(0);
        return;
      }
      this.#app = app;
      for (const [group, member] of this.#selections) this.#apply(group, member);
      this.#reporter = new TrackerReporter(app.tracker);
      this.#timer = setInterval(() => void this.#report(), m.reportMs);
      void this.#send({ type: 'ready' });
    } catch (err) {
      const message = err instanceof ConfigError ? err.issues.map((i) => formatIssue(i)).join('; ') : errorMessage(err);
      await this.#send({ type: 'start-failed', message });
      process.exit(1);
    }
  }

  /** Records a selection (applied now, or once the App runs); false when the group or member is unknown. */
  #select(group: string, member: string): boolean {
    if (!this.#app) {
      this.#selections.set(group, member);
      return true;
    }
    const ok = this.#apply(group, member);
    if (ok) this.#selections.set(group, member);
    return ok;
  }

  #apply(group: string, member: string): boolean {
    const g = this.#app?.graph.outbounds.get(group);
    return g instanceof SelectGroup && g.select(member);
  }

  #report(): Promise<void> {
    const r = this.#reporter?.next();
    return r ? this.#send(r) : Promise.resolve();
  }

  #stop(graceMs: number, code: number): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      try {
        await this.#app?.close(graceMs);
      } catch (err) {
        this.#log.error(`cluster worker: shutdown: ${errorMessage(err)}`);
      }
      await this.#report(); // the last bytes, so the primary's totals are complete
      process.exit(code);
    })();
    return this.#stopping;
  }
}
