import type { Metadata } from '../core/metadata.js';
import type { ByteCounter } from './pipe.js';

/** One live connection as the REST API will list it: mihomo's /connections entry, in core terms. */
export interface TrackedConnection extends ByteCounter {
  readonly metadata: Metadata;
  readonly start: Date;
  /** mihomo's chain order: the outbound actually used first, the rule's target last */
  readonly chains: readonly string[];
  /** rule type name (Match, DomainSuffix…) or '' in global/direct mode */
  readonly rule: string;
  readonly rulePayload: string;
  /** the destination IP when the rule engine resolved one */
  readonly destinationIp?: string;
  /** closes the connection (both legs) */
  close(): void;
}

/** Fields a connection is registered with; counters start at zero. */
export type TrackedInit = Omit<TrackedConnection, 'upload' | 'download' | 'start'>;

/** A record built from a TrackedInit: one fixed shape, and the start time kept as a number
 * (a Date is made only when someone asks, which on the connection path nobody does). */
class InitRecord implements TrackedConnection {
  readonly metadata: TrackedInit['metadata'];
  readonly chains: readonly string[];
  readonly rule: string;
  readonly rulePayload: string;
  readonly destinationIp: string | undefined;
  upload = 0;
  download = 0;
  readonly #startMs = Date.now();
  readonly #close: () => void;

  constructor(init: TrackedInit) {
    this.metadata = init.metadata;
    this.chains = init.chains;
    this.rule = init.rule;
    this.rulePayload = init.rulePayload;
    this.destinationIp = init.destinationIp;
    this.#close = init.close;
  }

  get start(): Date {
    return new Date(this.#startMs);
  }

  close(): void {
    this.#close();
  }
}

/** Told of every connection the tracker registers and forgets (the library's typed events). */
export interface TrackerWatcher {
  opened(c: TrackedConnection): void;
  closed(c: TrackedConnection): void;
}

/**
 * The live connection table and the running byte totals. Inbounds never see it; the tunnel
 * registers into it and the API reads it. It belongs to the host, so it outlives configs.
 */
export class Tracker {
  readonly #live = new Map<string, TrackedConnection>();
  readonly #watchers = new Set<TrackerWatcher>();
  #closedUpload = 0;
  #closedDownload = 0;

  /** Adds a watcher; returns the function that removes it. */
  watch(w: TrackerWatcher): () => void {
    this.#watchers.add(w);
    return () => void this.#watchers.delete(w);
  }

  /** Registers a connection; the returned record is the relay's byte counter. */
  add(init: TrackedInit): TrackedConnection {
    return this.track(new InitRecord(init));
  }

  /** Registers a record the caller built itself (the tunnel's per-connection object, which
   * saves a second object per connection); its counters must start at zero. */
  track<T extends TrackedConnection>(record: T): T {
    this.#live.set(record.metadata.id, record);
    if (this.#watchers.size > 0) for (const w of this.#watchers) w.opened(record);
    return record;
  }

  /** Forgets a closed connection, keeping its bytes in the totals. */
  remove(record: TrackedConnection): void {
    if (this.#live.delete(record.metadata.id)) {
      this.#closedUpload += record.upload;
      this.#closedDownload += record.download;
      if (this.#watchers.size > 0) for (const w of this.#watchers) w.closed(record);
    }
  }

  get(id: string): TrackedConnection | undefined {
    return this.#live.get(id);
  }

  get size(): number {
    return this.#live.size;
  }

  list(): IterableIterator<TrackedConnection> {
    return this.#live.values();
  }

  /** Bytes moved since start, closed and live connections together. */
  totals(): { upload: number; download: number } {
    let upload = this.#closedUpload;
    let download = this.#closedDownload;
    for (const c of this.#live.values()) {
      upload += c.upload;
      download += c.download;
    }
    return { upload, download };
  }

  /** Closes every live connection. */
  closeAll(): void {
    for (const c of [...this.#live.values()]) c.close();
  }
}
