import type { ConnectionSnapshot, Report } from './messages.js';

/** One live connection of the whole process, with the worker that holds it. */
export interface ClusterConnection extends ConnectionSnapshot {
  /** node:cluster worker id */
  readonly worker: number;
}

/** What one worker has reported. */
export interface WorkerStats {
  readonly worker: number;
  /** live connections it reported */
  readonly live: number;
  /** connections it reported opening since it started (one that opens and closes between two reports is only in the bytes) */
  readonly opened: number;
  readonly upload: number;
  readonly download: number;
}

interface Stats {
  worker: number;
  live: Set<string>;
  opened: number;
  upload: number;
  download: number;
}

/**
 * The primary's view of every worker's connections and byte totals, built from their reports.
 * The totals keep the bytes of workers that exited; their live connections go with them.
 */
export class ClusterLedger {
  readonly #connections = new Map<string, ClusterConnection & { upload: number; download: number }>();
  readonly #workers = new Map<number, Stats>();
  #upload = 0;
  #download = 0;

  /** Applies one worker's report. Ids it does not own are ignored (a report cannot touch another worker's rows). */
  apply(worker: number, r: Report): void {
    const stats = this.#stats(worker);
    for (const c of r.opened) {
      const owner = this.#connections.get(c.metadata.id)?.worker;
      if (owner !== undefined && owner !== worker) continue;
      this.#connections.set(c.metadata.id, { ...c, worker });
      if (!stats.live.has(c.metadata.id)) {
        stats.live.add(c.metadata.id);
        stats.opened++;
      }
    }
    for (const [id, upload, download] of r.counters) {
      const c = this.#connections.get(id);
      if (c === undefined || c.worker !== worker) continue;
      c.upload = upload;
      c.download = download;
    }
    for (const id of r.closed) {
      if (!stats.live.delete(id)) continue;
      this.#connections.delete(id);
    }
    stats.upload += r.upload;
    stats.download += r.download;
    this.#upload += r.upload;
    this.#download += r.download;
  }

  /** Forgets a worker that exited: its connections died with it, its bytes stay in the totals. */
  workerGone(worker: number): void {
    const stats = this.#workers.get(worker);
    if (!stats) return;
    for (const id of stats.live) this.#connections.delete(id);
    this.#workers.delete(worker);
  }

  /** Every live connection, as last reported. */
  connections(): ClusterConnection[] {
    return [...this.#connections.values()];
  }

  /** Which worker holds connection `id`. */
  ownerOf(id: string): number | undefined {
    return this.#connections.get(id)?.worker;
  }

  /** Bytes moved since the cluster started, by every worker that ever ran. */
  totals(): { upload: number; download: number } {
    return { upload: this.#upload, download: this.#download };
  }

  /** Per-worker figures of the workers alive now. */
  workers(): WorkerStats[] {
    return [...this.#workers.values()].map((s) => ({ worker: s.worker, live: s.live.size, opened: s.opened, upload: s.upload, download: s.download }));
  }

  #stats(worker: number): Stats {
    let s = this.#workers.get(worker);
    if (!s) {
      s = { worker, live: new Set(), opened: 0, upload: 0, download: 0 };
      this.#workers.set(worker, s);
    }
    return s;
  }
}
