import type { TrackedConnection, Tracker } from '../tunnel/tracker.js';
import type { ConnectionSnapshot, Report } from './messages.js';

interface Sent {
  upload: number;
  download: number;
  /** the tick that last saw this connection live */
  tick: number;
}

function snapshot(c: TrackedConnection): ConnectionSnapshot {
  const m = c.metadata;
  return {
    metadata: {
      id: m.id,
      network: m.network,
      inbound: { type: m.inbound.type, name: m.inbound.name, port: m.inbound.port, ...(m.inbound.user !== undefined && { user: m.inbound.user }) },
      source: { host: m.source.host, port: m.source.port },
      destination: { host: m.destination.host, port: m.destination.port },
      ...(m.sniffHost !== undefined && { sniffHost: m.sniffHost }),
    },
    start: c.start.getTime(),
    chains: [...c.chains],
    rule: c.rule,
    rulePayload: c.rulePayload,
    ...(c.destinationIp !== undefined && { destinationIp: c.destinationIp }),
    upload: c.upload,
    download: c.download,
  };
}

/**
 * Turns a worker's tracker into batched deltas for the primary: on each `next()`, the
 * connections opened since the last report (full records), those closed (ids), the counters
 * of live ones that moved, and the bytes moved. Costs one pass over the live table per report,
 * nothing per connection or per chunk.
 */
export class TrackerReporter {
  readonly #tracker: Tracker;
  readonly #sent = new Map<string, Sent>();
  #tick = 0;
  #upload = 0;
  #download = 0;

  constructor(tracker: Tracker) {
    this.#tracker = tracker;
  }

  /** The changes since the previous call; undefined when nothing changed. */
  next(): Report | undefined {
    const tick = ++this.#tick;
    const opened: ConnectionSnapshot[] = [];
    const counters: [string, number, number][] = [];
    for (const c of this.#tracker.list()) {
      const id = c.metadata.id;
      const s = this.#sent.get(id);
      if (s === undefined) {
        opened.push(snapshot(c));
        this.#sent.set(id, { upload: c.upload, download: c.download, tick });
        continue;
      }
      s.tick = tick;
      if (s.upload !== c.upload || s.download !== c.download) {
        s.upload = c.upload;
        s.download = c.download;
        counters.push([id, c.upload, c.download]);
      }
    }
    const closed: string[] = [];
    for (const [id, s] of this.#sent) {
      if (s.tick !== tick) {
        closed.push(id);
        this.#sent.delete(id);
      }
    }
    const totals = this.#tracker.totals();
    const upload = totals.upload - this.#upload;
    const download = totals.download - this.#download;
    this.#upload = totals.upload;
    this.#download = totals.download;
    if (opened.length === 0 && closed.length === 0 && counters.length === 0 && upload === 0 && download === 0) return undefined;
    return { type: 'report', opened, closed, counters, upload, download };
  }
}
