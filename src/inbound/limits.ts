import type { Logger } from '../common/log.js';
import { LIMIT_LOG_INTERVAL_MS, OncePerInterval } from '../common/once-per-interval.js';
import { unmapIPv4 } from '../core/address.js';

/**
 * Connection limits of one listener (clash-ts extensions; mihomo has none): how many client
 * connections may be open at once, in all and from one source IP. 0 means no limit (the
 * default). A connection counts from accept until its socket closes, handshake and relay alike.
 */
export interface ConnectionLimits {
  /** `max-connections` */
  readonly maxConnections: number;
  /** `max-connections-per-ip` */
  readonly maxConnectionsPerIp: number;
}

export const NO_LIMITS: ConnectionLimits = { maxConnections: 0, maxConnectionsPerIp: 0 };

/** Something that announces its end with a 'close' event: a socket. */
interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Counts a listener's open connections, in all and per source IP, and refuses the ones over
 * its limits. A Map lookup and two counter updates per connection when a limit is on; nothing
 * when both are off.
 */
export class ConnectionLimiter {
  readonly #max: number;
  readonly #perIp: number;
  readonly #byIp = new Map<string, number>();
  #open = 0;
  readonly #totalLog: OncePerInterval;
  readonly #ipLog: OncePerInterval;

  constructor(name: string, limits: ConnectionLimits, log: Logger, intervalMs = LIMIT_LOG_INTERVAL_MS) {
    this.#max = limits.maxConnections;
    this.#perIp = limits.maxConnectionsPerIp;
    const s = (n: number): string => (n === 1 ? '1 connection' : `${n} connections`);
    this.#totalLog = new OncePerInterval(intervalMs, (n) =>
      log.warn(`[${name}] max-connections ${this.#max} reached: refused ${s(n)} since the last report`),
    );
    this.#ipLog = new OncePerInterval(intervalMs, (n) =>
      log.warn(`[${name}] max-connections-per-ip ${this.#perIp} reached: refused ${s(n)} since the last report`),
    );
  }

  /** Whether any limit is on. */
  get active(): boolean {
    return this.#max > 0 || this.#perIp > 0;
  }

  /** Open connections counted now. */
  get open(): number {
    return this.#open;
  }

  /**
   * Admits a freshly accepted connection from `ip`, or refuses it (the caller destroys it).
   * An admitted one is counted until its 'close'.
   */
  admit(conn: Closable, ip: string | undefined): boolean {
    if (!this.active) return true;
    if (this.#max > 0 && this.#open >= this.#max) {
      this.#totalLog.hit();
      return false;
    }
    let key: string | undefined;
    if (this.#perIp > 0) {
      key = ip === undefined ? '?' : unmapIPv4(ip);
      const n = this.#byIp.get(key) ?? 0;
      if (n >= this.#perIp) {
        this.#ipLog.hit();
        return false;
      }
      this.#byIp.set(key, n + 1);
    }
    this.#open++;
    conn.once('close', () => {
      this.#open--;
      if (key === undefined) return;
      const n = (this.#byIp.get(key) ?? 1) - 1;
      if (n <= 0) this.#byIp.delete(key);
      else this.#byIp.set(key, n);
    });
    return true;
  }
}
