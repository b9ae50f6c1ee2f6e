/** The load generator's own figures: errors by kind, bytes verified and corrupted, latencies. */

/** Percentile of sorted values (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Latency quantiles (ms) of a set of samples. */
export interface Quantiles {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

export function quantiles(values: readonly number[]): Quantiles {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9) };
}

/** One interval's figures (cumulative counters are totals since the load started). */
export interface LoadSnapshot {
  /** errors by kind, cumulative */
  readonly errors: Record<string, number>;
  readonly bytesVerified: number;
  readonly bytesCorrupted: number;
  readonly connectionsOk: number;
  readonly exchangesOk: number;
  readonly bulkOk: number;
  readonly udpSent: number;
  readonly udpVerified: number;
  /** datagrams with no answer within their wait (UDP may lose; counted, not an error) */
  readonly udpLost: number;
  readonly reloads: number;
  readonly switches: number;
  /** tunnels open now */
  readonly tunnelsLive: number;
  /** this interval: new connection time (connect + handshake + echo verified), ms */
  readonly connect: Quantiles;
  /** this interval: a long-lived tunnel's exchange round trip, ms */
  readonly tunnelRtt: Quantiles;
}

/** Counters and per-interval latency samples; `all` keeps every sample for the whole run. */
export class LoadStats {
  readonly errors = new Map<string, number>();
  /** one line per kind: the first message seen, for the report */
  readonly errorExamples = new Map<string, string>();
  bytesVerified = 0;
  bytesCorrupted = 0;
  connectionsOk = 0;
  exchangesOk = 0;
  bulkOk = 0;
  udpSent = 0;
  udpVerified = 0;
  udpLost = 0;
  reloads = 0;
  switches = 0;
  tunnelsLive = 0;
  #connect: number[] = [];
  #rtt: number[] = [];
  readonly allConnect: number[] = [];
  readonly allRtt: number[] = [];

  error(kind: string, detail: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    if (!this.errorExamples.has(kind)) this.errorExamples.set(kind, detail.slice(0, 200));
  }
  connectMs(ms: number): void {
    this.#connect.push(ms);
    this.allConnect.push(ms);
  }
  rttMs(ms: number): void {
    this.#rtt.push(ms);
    this.allRtt.push(ms);
  }
  /** the figures so far, and a new interval for the latencies */
  snapshot(): LoadSnapshot {
    const s: LoadSnapshot = {
      errors: Object.fromEntries(this.errors),
      bytesVerified: this.bytesVerified,
      bytesCorrupted: this.bytesCorrupted,
      connectionsOk: this.connectionsOk,
      exchangesOk: this.exchangesOk,
      bulkOk: this.bulkOk,
      udpSent: this.udpSent,
      udpVerified: this.udpVerified,
      udpLost: this.udpLost,
      reloads: this.reloads,
      switches: this.switches,
      tunnelsLive: this.tunnelsLive,
      connect: quantiles(this.#connect),
      tunnelRtt: quantiles(this.#rtt),
    };
    this.#connect = [];
    this.#rtt = [];
    return s;
  }
}

/** A short, stable name for an error (the kind the report counts). */
export function errorKind(where: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const m = String(e?.message ?? err);
  const code = e?.code ?? /socks5 reply \d+|HTTP \d{3}|timeout|closed|mismatch|ended/i.exec(m)?.[0] ?? 'other';
  return `${where}: ${code}`;
}
