import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../common/log.js';
import { errorMessage } from '../core/errors.js';
import type { Dialer } from '../core/outbound.js';
import { connectTls, type TlsOptions } from './tls.js';
import { DemandEstimator, type DemandTuning } from './warm-demand.js';
import { ParkedSocket, setRef } from './warm-parked.js';
import { WarmMetricsCounter, type WarmPoolMetrics } from './warm-metrics.js';

/** The user-facing knobs (global `warm-pool:` merged with the proxy's own). */
export interface WarmPoolSettings {
  readonly enable: boolean;
  /** warm connections held at least while the proxy is in use */
  readonly min: number;
  /** warm connections held at most */
  readonly max: number;
  /** a parked connection older than this is closed unused (ms); keep it below the servers'
   * handshake timeout (v2ray/Xray close a connection that sent nothing after 4 s) */
  readonly maxIdleMs: number;
}

/** Internal timing knobs (tests shorten them). */
export interface WarmPoolTuning extends DemandTuning {
  /** housekeeping period (ms) */
  readonly tickMs: number;
  /** first backoff after a failed handshake; doubles per failure up to `backoffMaxMs` */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** a background dial + handshake taking longer than this fails (ms) */
  readonly handshakeTimeoutMs: number;
}

/** Per-server admission shared by the pools of one server (different SNI/ALPN, same host). */
export interface ServerBudget {
  tryAcquire(): boolean;
  release(): void;
}

/** What one pool is built from. */
export interface WarmPoolInit {
  readonly key: string;
  readonly server: string;
  readonly port: number;
  readonly tls: TlsOptions;
  readonly dialer: Dialer;
  readonly settings: WarmPoolSettings;
  readonly log: Logger;
  readonly budget: ServerBudget;
  readonly tuning?: Partial<WarmPoolTuning>;
  readonly now?: () => number;
}

const POOL_DEFAULTS = { tickMs: 250, backoffBaseMs: 500, backoffMaxMs: 30_000, handshakeTimeoutMs: 10_000 };

/**
 * Already-handshaken TLS connections to one (server, port, TLS options) over one dialer.
 * `take()` hands out a live one at most once, or undefined (the caller then dials as usual);
 * the pool refills in the background toward a target predicted from demand (DemandEstimator).
 * Parked sockets (ParkedSocket) are unref'd and own their 'error' events; one the server closes
 * or writes to is dropped at once, never handed out.
 */
export class WarmPool {
  readonly #i: WarmPoolInit;
  readonly #t: WarmPoolTuning;
  readonly #now: () => number;
  readonly #demand: DemandEstimator;
  readonly #parked: ParkedSocket[] = [];
  readonly #aborts = new Set<AbortController>();
  readonly #m: WarmMetricsCounter;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** bumped per counted failure: attempts started together fail as one backoff step */
  #round = 0;
  #retryAt = 0;
  #lastTarget = 0;
  #closed = false;

  constructor(init: WarmPoolInit) {
    this.#i = init;
    this.#t = { ...POOL_DEFAULTS, ...init.tuning } as WarmPoolTuning;
    this.#now = init.now ?? Date.now;
    this.#demand = new DemandEstimator(this.#now(), this.#t);
    this.#m = new WarmMetricsCounter(init.key);
  }

  /** Records one wanted connection; returns a live warm TLS socket (a hit) or undefined (a miss). */
  take(): TLSSocket | undefined {
    if (this.#closed) return undefined;
    const now = this.#now();
    this.#demand.arrive(now);
    let got: ParkedSocket | undefined;
    while (got === undefined && this.#parked.length > 0) {
      const p = this.#parked.shift() as ParkedSocket;
      this.#i.budget.release();
      if (!p.usable() || now - p.at >= this.#i.settings.maxIdleMs) {
        if (p.usable()) this.#m.wasted++;
        else this.#m.dropped++;
        p.discard();
      } else got = p;
    }
    if (got) this.#m.hits++;
    else this.#m.misses++;
    this.#schedule();
    this.#refill(now);
    return got?.handOut();
  }

  /** Feeds a handshake time measured outside the pool (a miss dialed by the caller). */
  observeHandshake(ms: number): void {
    this.#demand.handshake(ms, this.#now());
  }

  /** A snapshot for logs and a metrics endpoint. */
  metrics(): WarmPoolMetrics {
    const now = this.#now();
    return this.#m.snapshot({
      size: this.#parked.length,
      pending: this.#aborts.size,
      target: this.#demand.target(now, this.#i.settings.min, this.#i.settings.max, this.#i.settings.maxIdleMs),
      ratePerSec: this.#demand.rate(now),
      handshakeMs: this.#demand.handshakeMs(),
      replacementMs: this.#demand.replacementMs(now),
      failures: this.#failures,
      backoffMs: Math.max(0, this.#retryAt - now),
    });
  }

  /** Closes every parked connection and aborts pending handshakes; take() then always misses. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const ac of this.#aborts) ac.abort();
    for (const p of this.#parked.splice(0)) this.#drop(p);
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => this.#tick(), this.#t.tickMs);
    this.#timer.unref();
  }

  #tick(): void {
    const now = this.#now();
    const maxIdle = this.#i.settings.maxIdleMs;
    for (let k = this.#parked.length - 1; k >= 0; k--) {
      const p = this.#parked[k] as ParkedSocket;
      if (now - p.at < maxIdle) continue;
      this.#parked.splice(k, 1);
      this.#drop(p);
      this.#m.wasted++;
    }
    const idle = this.#demand.idle(now);
    if (idle) {
      // no traffic to this server for long: hold nothing (closing them is waste, counted)
      for (const p of this.#parked.splice(0)) {
        this.#drop(p);
        this.#m.wasted++;
      }
      if (this.#aborts.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    }
    this.#refill(now);
  }

  /** Starts handshakes toward the target; excess is not closed but left to expire, which
   * shrinks the pool without discarding connections a returning burst could still use. */
  #refill(now: number): void {
    if (this.#closed || now < this.#retryAt) return;
    const s = this.#i.settings;
    const target = this.#demand.target(now, s.min, s.max, s.maxIdleMs);
    if (target !== this.#lastTarget) {
      const m = this.#m;
      this.#i.log.debug(
        `[WarmPool] ${this.#i.key} target ${this.#lastTarget} -> ${target} (rate ${this.#demand.rate(now).toFixed(2)}/s, handshake ${Math.round(this.#demand.handshakeMs())} ms; size ${this.#parked.length}, hits ${m.hits}, misses ${m.misses}, wasted ${m.wasted}, dropped ${m.dropped})`,
      );
      this.#lastTarget = target;
    }
    // after a failure only one probe at a time, so a dead server sees no storm
    const cap = this.#failures > 0 ? 1 : target;
    let want = Math.min(target, cap + this.#parked.length) - this.#parked.length - this.#aborts.size;
    while (want-- > 0 && this.#i.budget.tryAcquire()) void this.#warmOne();
  }

  async #warmOne(): Promise<void> {
    const ac = new AbortController();
    this.#aborts.add(ac);
    const timer = setTimeout(() => ac.abort(), this.#t.handshakeTimeoutMs);
    timer.unref();
    const t0 = this.#now();
    const round = this.#round;
    let sock: TLSSocket | undefined;
    let inner: Duplex | undefined;
    try {
      inner = await this.#i.dialer.dialTcp({ host: this.#i.server, port: this.#i.port }, ac.signal);
      setRef(inner, false);
      sock = await connectTls(inner, this.#i.tls, ac.signal);
    } catch (err) {
      inner?.destroy();
      if (round === this.#round) {
        this.#round++;
        this.#failures++;
        const wait = Math.min(this.#t.backoffBaseMs * 2 ** Math.min(this.#failures - 1, 30), this.#t.backoffMaxMs);
        this.#retryAt = this.#now() + wait;
        if (!this.#closed) this.#i.log.debug(`[WarmPool] ${this.#i.key} handshake failed (${errorMessage(err)}), retry in ${wait} ms`);
      }
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(ac);
    }
    if (!sock || !inner) {
      this.#i.budget.release();
      return;
    }
    if (this.#closed) {
      this.#i.budget.release();
      sock.destroy();
      return;
    }
    this.#failures = 0;
    this.#round++;
    this.#retryAt = 0;
    this.#demand.handshake(this.#now() - t0, this.#now());
    this.#parked.push(new ParkedSocket(sock, inner, this.#now(), this.#onGone));
    this.#refill(this.#now());
  }

  /** The server closed or wrote to a parked socket. */
  readonly #onGone = (p: ParkedSocket): void => {
    const k = this.#parked.indexOf(p);
    if (k >= 0) this.#parked.splice(k, 1);
    this.#drop(p);
    this.#m.dropped++;
  };

  /** Destroys a socket already out of the list and gives its budget slot back. */
  #drop(p: ParkedSocket): void {
    p.discard();
    this.#i.budget.release();
  }
}
