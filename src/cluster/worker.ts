import { withOverrides } from '../cli/overrides.js';
import { createLogger, type Logger } from '../common/log.js';
import { formatIssue } from '../core/config-issue.js';
import { errorMessage } from '../core/errors.js';
import { Host, issuesOf, loadText } from '../host/host.js';
import { BindError } from '../host/listeners.js';
import { checkToWorker, type ToPrimary, type ToWorker } from './messages.js';
import { TrackerReporter } from './reporter.js';

/** How long a worker whose primary vanished waits for its connections before exiting. */
const ORPHAN_GRACE_MS = 1000;

/**
 * One cluster worker: waits for the primary's `start`, runs a Host on the shared listeners,
 * reports its tracker on an interval, and carries out the primary's control requests (select,
 * close, reload, patch, log forwarding) through the host's control plane. It stops gracefully
 * on `stop` (or SIGTERM). SIGINT is left to the primary, which a terminal's Ctrl-C also reaches.
 * If the primary disappears, the worker closes and exits.
 */
export class ClusterWorker {
  #log: Logger = createLogger('info');
  #host: Host | undefined;
  #starting: Promise<Host | undefined> | undefined;
  #reporter: TrackerReporter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unlog: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  /** Wires the IPC channel and the signals; the worker then runs until told to stop. */
  run(): void {
    process.on('message', (raw: unknown) => this.#onMessage(raw));
    process.on('disconnect', () => void this.#stop(ORPHAN_GRACE_MS, 0));
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {}); // the primary reloads (a terminal's hangup reaches the whole group)
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

  #ack(seq: number, ok: boolean, extra: { message?: string; count?: number } = {}): void {
    void this.#send({ type: 'ack', seq, ok, ...extra });
  }

  #onMessage(raw: unknown): void {
    const checked = checkToWorker(raw);
    if (!checked.ok) {
      this.#log.warn(`cluster worker: dropped a bad message from the primary: ${checked.problem}`);
      return;
    }
    const m = checked.message;
    if (m.type === 'start') {
      this.#starting ??= this.#start(m);
      return;
    }
    if (m.type === 'stop') {
      void this.#stop(m.graceMs, 0);
      return;
    }
    // every other request waits for the host (the primary sends them in order after `start`)
    void (this.#starting ?? Promise.resolve(undefined)).then((host) => this.#control(m, host));
  }

  async #control(m: Exclude<ToWorker, { type: 'start' | 'stop' }>, host: Host | undefined): Promise<void> {
    const c = host?.control;
    switch (m.type) {
      case 'select':
        return this.#ack(m.seq, (await c?.select(m.group, m.member)) ?? false);
      case 'unfix':
        return this.#ack(m.seq, (await c?.unfix(m.group)) ?? false);
      case 'update-provider':
        try {
          if (!c) throw new Error('worker has no running config');
          if (!(await c.updateProvider(m.name))) throw new Error(`provider ${m.name} not found`);
          return this.#ack(m.seq, true);
        } catch (err) {
          return this.#ack(m.seq, false, { message: errorMessage(err) });
        }
      case 'close-connection':
        return this.#ack(m.seq, (await c?.closeConnection(m.id)) ?? false);
      case 'close-all':
        return this.#ack(m.seq, true, { count: (await c?.closeAllConnections()) ?? 0 });
      case 'flush-dns':
        await c?.flushDnsCache();
        return this.#ack(m.seq, true);
      case 'fake-ip':
        host?.resolver.applyFakeIp(m.entries, m.replace);
        return this.#ack(m.seq, true);
      case 'reload':
        try {
          if (!c) throw new Error('worker has no running config');
          await c.reload(m.yaml);
          return this.#ack(m.seq, true);
        } catch (err) {
          return this.#ack(m.seq, false, { message: issuesOf(err).map((i) => formatIssue(i)).join('; ') });
        }
      case 'patch':
        try {
          if (!c) throw new Error('worker has no running config');
          await c.patchConfig({ mode: m.mode, logLevel: m.logLevel, ipv6: m.ipv6 });
          return this.#ack(m.seq, true);
        } catch (err) {
          return this.#ack(m.seq, false, { message: errorMessage(err) });
        }
      case 'logs':
        this.#unlog?.();
        this.#unlog = m.on ? this.#log.subscribe((e) => void this.#send({ type: 'log', level: e.level, message: e.message, time: e.time.getTime() })) : undefined;
        return;
    }
  }

  async #start(m: Extract<ToWorker, { type: 'start' }>): Promise<Host | undefined> {
    if (this.#stopping) return undefined;
    try {
      // the primary validated this text already (and printed its warnings)
      const transform = (c: Parameters<typeof withOverrides>[0]) => withOverrides(c, m.overrides);
      const loaded = loadText(m.yaml);
      this.#log = createLogger(loaded.config.general.logLevel);
      const host = await Host.start({ ...loaded, config: transform(loaded.config) }, {
        log: this.#log,
        udpRelays: m.udpRelays,
        transform,
        homeDir: m.homeDir,
        // the primary answers dns.listen and owns the fake-ip pools; this worker's pools copy them
        dnsListener: false,
        fakeIpRole: 'replica',
      });
      for (const [group, member] of m.selections) await host.control.select(group, member);
      if (this.#stopping) {
        await host.close(0);
        return undefined;
      }
      this.#host = host;
      this.#reporter = new TrackerReporter(host.tracker);
      this.#timer = setInterval(() => void this.#report(), m.reportMs);
      void this.#send({ type: 'ready' });
      return host;
    } catch (err) {
      const message = err instanceof BindError ? err.message : issuesOf(err).map((i) => formatIssue(i)).join('; ');
      await this.#send({ type: 'start-failed', message });
      process.exit(1);
    }
  }

  #report(): Promise<void> {
    const r = this.#reporter?.next();
    return r ? this.#send(r) : Promise.resolve();
  }

  #stop(graceMs: number, code: number): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#timer) clearInterval(this.#timer);
      this.#unlog?.();
      try {
        await this.#host?.close(graceMs);
      } catch (err) {
        this.#log.error(`cluster worker: shutdown: ${errorMessage(err)}`);
      }
      await this.#report(); // the last bytes, so the primary's totals are complete
      process.exit(code);
    })();
    return this.#stopping;
  }
}
