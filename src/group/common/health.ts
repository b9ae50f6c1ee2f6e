import type { Logger } from '../../common/log.js';
import type { Component } from '../../core/component.js';
import { errorMessage } from '../../core/errors.js';
import type { Outbound } from '../../core/outbound.js';
import { ExpectedStatus } from '../../health/expected-status.js';
import { recordedProbe } from '../../health/probe.js';
import type { GroupSpec, HealthEnv } from '../registry.js';

/** mihomo's default test URL. */
export const DEFAULT_TEST_URL = 'https://www.gstatic.com/generate_204';
/** mihomo's defaults for groups that check (seconds, ms, count). */
export const DEFAULT_INTERVAL = 300;
export const DEFAULT_TIMEOUT = 5000;
export const DEFAULT_MAX_FAILED = 5;
/** A proxy with no result yet sorts after every measured one (mihomo's 0xffff). */
export const UNKNOWN_DELAY = 0xffff;

/** Adapter types a failed dial says nothing about (mihomo's list). */
const NOT_COUNTED = new Set(['Direct', 'Compatible', 'Reject', 'RejectDrop', 'Pass']);

/** What one health check runs: the group's keys with mihomo's defaults applied. */
export interface HealthSettings {
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly lazy: boolean;
  readonly maxFailedTimes: number;
  readonly expected: ExpectedStatus;
}

/** The settings of `spec`; `auto` types (url-test, fallback, load-balance) check every 300 s unless told. */
export function healthSettings(spec: GroupSpec, auto: boolean): HealthSettings {
  const interval = spec.interval ?? (auto ? DEFAULT_INTERVAL : 0);
  return {
    url: spec.url ?? DEFAULT_TEST_URL,
    intervalMs: (interval === 0 && auto ? DEFAULT_INTERVAL : interval) * 1000,
    timeoutMs: spec.timeout ?? DEFAULT_TIMEOUT,
    lazy: spec.lazy ?? true,
    maxFailedTimes: spec.maxFailedTimes ?? DEFAULT_MAX_FAILED,
    expected: ExpectedStatus.parse(spec.expectedStatus ?? '*'),
  };
}

/**
 * A group's health check, a Component of its generation: URL tests of every member through it,
 * every `interval` (lazy: only while the group was used within the last interval, and first
 * when it is first used), through the generation's ProbeQueue. Results go to the host's
 * DelayHistory (the API's history) and to this check's own table, which the group reads
 * (alive, delay for its test URL). Dials that fail `max-failed-times` times within `timeout`
 * (or are refused) start a check at once, as mihomo does. Nothing here blocks routing.
 */
export class HealthCheck implements Component {
  readonly label: string;
  readonly settings: HealthSettings;
  readonly #group: string;
  readonly #members: () => readonly Outbound[];
  readonly #env: HealthEnv | undefined;
  readonly #log: Logger;
  readonly #onChecked: () => void;
  readonly #last = new Map<string, number>();
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  #checked = false;
  #running: Promise<void> | undefined;
  #lastTouch = 0;
  #failed = 0;
  #firstFailed = 0;
  /** checks completed (tests wait on it) */
  rounds = 0;

  constructor(o: { group: string; settings: HealthSettings; members: () => readonly Outbound[]; env: HealthEnv | undefined; log: Logger; onChecked?: () => void; label?: string }) {
    this.#group = o.group;
    this.label = o.label ?? `health-check(${o.group})`;
    this.settings = o.settings;
    this.#members = o.members;
    this.#env = o.env;
    this.#log = o.log;
    this.#onChecked = o.onChecked ?? (() => undefined);
  }

  /** whether `name` passed its last test here (true until tested, as in mihomo) */
  alive(name: string): boolean {
    return (this.#last.get(name) ?? UNKNOWN_DELAY) > 0;
  }

  /** its last delay here; UNKNOWN_DELAY when untested or dead */
  delay(name: string): number {
    const d = this.#last.get(name);
    return d === undefined || d === 0 ? UNKNOWN_DELAY : d;
  }

  /** closed with its generation */
  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    if (this.#started || this.#closed || !this.#env) return;
    this.#started = true;
    if (this.settings.intervalMs > 0) {
      this.#timer = setInterval(() => {
        if (!this.settings.lazy || Date.now() - this.#lastTouch < this.settings.intervalMs) void this.check();
        else this.#log.debug(`${this.label}: skip once health check because we are lazy`);
      }, this.settings.intervalMs);
    }
    if (!this.settings.lazy && this.auto) void this.check();
  }

  /** it checks on its own (an interval is set) */
  get auto(): boolean {
    return this.settings.intervalMs > 0;
  }

  /** it was used, or is not lazy: a change of its members is worth a check now */
  get wanted(): boolean {
    return this.#started && this.auto && (!this.settings.lazy || this.#lastTouch > 0);
  }

  /**
   * The group was used by a connection: a lazy check that never ran runs now (in the
   * background). A check without an interval (a select group's) runs only when asked, as mihomo.
   */
  touch(): void {
    this.#lastTouch = Date.now();
    if (this.#started && this.auto && !this.#checked && this.#running === undefined) void this.check();
  }

  /** Tests one member now (mihomo's Fallback.Set of a dead member); its result lands in the table. */
  async checkOne(member: Outbound): Promise<void> {
    const env = this.#env;
    if (!env || this.#closed) return;
    const probe = { url: this.settings.url, timeoutMs: this.settings.timeoutMs, expected: this.settings.expected, unified: env.unified, ca: env.ca, signal: this.#abort.signal };
    try {
      this.#last.set(member.name, await env.queue.run(() => recordedProbe(member, member.name, probe, env.delays)));
    } catch (err) {
      if (this.#closed) return;
      this.#last.set(member.name, 0);
      this.#log.debug(`${this.label}: ${member.name} failed: ${errorMessage(err)}`);
    }
    if (!this.#closed) this.#onChecked();
  }

  /** Tests every member now (one run at a time: a second call joins the running one). */
  check(): Promise<void> {
    const env = this.#env;
    if (!env || this.#closed) return Promise.resolve();
    this.#checked = true;
    this.#running ??= (async () => {
      const members = this.#members();
      this.#log.debug(`${this.label}: start health checking (${members.length} proxies)`);
      const probe = { url: this.settings.url, timeoutMs: this.settings.timeoutMs, expected: this.settings.expected, unified: env.unified, ca: env.ca, signal: this.#abort.signal };
      await Promise.all(
        members.map((m) =>
          env.queue.run(async () => {
            if (this.#closed) return;
            try {
              this.#last.set(m.name, await recordedProbe(m, m.name, probe, env.delays));
            } catch (err) {
              if (this.#closed) return;
              this.#last.set(m.name, 0);
              this.#log.debug(`${this.label}: ${m.name} failed: ${errorMessage(err)}`);
            }
          }),
        ),
      );
      this.rounds++;
      if (!this.#closed) this.#onChecked();
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** A connection through `member` failed to dial: count it (mihomo's max-failed-times). */
  dialFailed(member: Outbound, err: unknown): void {
    if (!this.#started || NOT_COUNTED.has(member.type)) return;
    if (/refused/i.test(errorMessage(err))) {
      void this.check();
      return;
    }
    const now = Date.now();
    this.#failed++;
    if (this.#failed === 1) {
      this.#firstFailed = now;
      this.#log.debug(`ProxyGroup: ${this.#group} first failed`);
      return;
    }
    if (now - this.#firstFailed > this.settings.timeoutMs) {
      this.#failed = 0;
      return;
    }
    this.#log.debug(`ProxyGroup: ${this.#group} failed count: ${this.#failed}`);
    if (this.#failed >= this.settings.maxFailedTimes) {
      this.#log.warn(`because ${this.#group} failed multiple times, active health check`);
      this.#failed = 0;
      void this.check();
    }
  }

  /** A connection through the group dialed: the failure count starts over. */
  dialSucceeded(): void {
    if (this.#running === undefined) this.#failed = 0;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
  }
}
