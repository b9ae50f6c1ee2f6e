/**
 * The /connections snapshot as UTF-8 JSON bytes, built cheaply and in slices.
 *
 * A connection's id, metadata, start, chains and rule never change, so its JSON object is encoded
 * once (to bytes) and kept with the two counters it was written with; a snapshot copies the kept
 * bytes of every connection whose counters did not move (most of 10,000 live connections are
 * idle) and re-encodes only the counters of the others. No per-snapshot string of megabytes is
 * built, so there is no flattening, no UTF-8 pass over the whole text and little for the GC.
 *
 * The snapshot comes as slices of a bounded number of connections, so a caller can hand each to
 * the socket on its own loop turn and the relay is never held for the whole walk. The slices
 * joined are exactly `JSON.stringify(snapshotJson(...))` followed by `suffix`: the same keys in the
 * same order (the wire shape dashboards read).
 */
import type { ConnectionView, TrafficView } from '../core/control-plane.js';
import { connectionJson } from './shapes.js';

/** Connections per slice: about 300 KB of JSON, well under a millisecond to copy. */
export const SLICE_CONNECTIONS = 500;

/** One connection's JSON as last written. */
interface Entry {
  /** the whole `{"id":…}` object */
  bytes: Buffer;
  /** where `U,"download":D` starts and how much of the end follows it */
  readonly head: number;
  readonly tail: number;
  /** the counters written in `bytes` */
  up: number;
  down: number;
  /** the counters the last pass saw (when they stop moving, `bytes` is rewritten once) */
  lastUp: number;
  lastDown: number;
  /** the pass that last listed it (entries no pass listed lately are forgotten) */
  seen: number;
}

const DOWNLOAD_KEY = ',"download":';
const EMPTY = Buffer.alloc(0);

/** JSON text of a number, as JSON.stringify writes it (null for NaN and infinities) */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

function counters(up: number, down: number): string {
  return `${num(up)}${DOWNLOAD_KEY}${num(down)}`;
}

function entryOf(c: ConnectionView, pass: number): Entry {
  const { id, metadata, start, chains, rule, rulePayload } = connectionJson(c);
  const before = `{"id":${JSON.stringify(id)},"metadata":${JSON.stringify(metadata)},"upload":`;
  const after = `,"start":${JSON.stringify(start)},"chains":${JSON.stringify(chains)},"rule":${JSON.stringify(rule)},"rulePayload":${JSON.stringify(rulePayload)}}`;
  const head = Buffer.byteLength(before);
  const tail = Buffer.byteLength(after);
  return { bytes: Buffer.from(before + counters(c.upload, c.download) + after), head, tail, up: c.upload, down: c.download, lastUp: c.upload, lastDown: c.download, seen: pass };
}

/** the entry's bytes with new counters (the fixed parts copied, never re-encoded) */
function recount(e: Entry, up: number, down: number): void {
  // (an entry a pass meets still moving is not rewritten: its counters go straight to the slice)
  const mid = counters(up, down); // ASCII only
  const out = Buffer.allocUnsafe(e.head + mid.length + e.tail);
  e.bytes.copy(out, 0, 0, e.head);
  out.write(mid, e.head, 'latin1');
  e.bytes.copy(out, e.head + mid.length, e.bytes.length - e.tail);
  e.bytes = out;
  e.up = up;
  e.down = down;
}

export class SnapshotEncoder {
  readonly #cache = new Map<string, Entry>();
  #pass = 0;

  /** connections whose JSON is kept (for tests and the bench) */
  get cached(): number {
    return this.#cache.size;
  }

  /** Forgets every kept connection (when nobody reads snapshots any more). */
  clear(): void {
    this.#cache.clear();
  }

  /**
   * The snapshot of `conns` in slices of at most `per` connections; `memory` is asked when the
   * last slice is made. Forgets the kept JSON of connections the last two passes did not list.
   */
  *slices(conns: Iterable<ConnectionView> | Iterator<ConnectionView>, traffic: TrafficView, memory: () => number, suffix = '', per = SLICE_CONNECTIONS): Generator<Buffer, void, undefined> {
    const pass = ++this.#pass;
    let first = Buffer.from(`{"downloadTotal":${num(traffic.downTotal)},"uploadTotal":${num(traffic.upTotal)},"connections":[`);
    const step = Math.max(1, per);
    const entries: Entry[] = [];
    /** per entry of the slice: the counters text when they moved since `bytes` was written */
    const mids: (string | undefined)[] = [];
    const it: Iterator<ConnectionView> = Symbol.iterator in conns ? conns[Symbol.iterator]() : conns;
    let listed = 0;
    for (let more = true; more; ) {
      entries.length = 0;
      mids.length = 0;
      let size = first.length;
      while (entries.length < step) {
        const n = it.next();
        if (n.done) {
          more = false;
          break;
        }
        const c = n.value;
        let e = this.#cache.get(c.id);
        let mid: string | undefined;
        if (e === undefined) this.#cache.set(c.id, (e = entryOf(c, pass)));
        else {
          e.seen = pass;
          const up = c.upload;
          const down = c.download;
          if (up !== e.up || down !== e.down) {
            if (up === e.lastUp && down === e.lastDown) recount(e, up, down); // it went idle: keep its bytes as they are now
            else mid = counters(up, down); // still moving: written between the kept parts, nothing kept
            e.lastUp = up;
            e.lastDown = down;
          }
        }
        entries.push(e);
        mids.push(mid);
        size += 1 + (mid === undefined ? e.bytes.length : e.head + mid.length + e.tail); // and a comma
      }
      if (entries.length === 0) break;
      const from = listed;
      listed += entries.length;
      const out = Buffer.allocUnsafeSlow(size);
      let at = first.copy(out, 0);
      for (let k = 0; k < entries.length; k++) {
        if (from + k > 0) out[at++] = 0x2c; // ','
        const e = entries[k];
        const mid = mids[k];
        if (mid === undefined) at += e.bytes.copy(out, at);
        else {
          at += e.bytes.copy(out, at, 0, e.head);
          at += out.write(mid, at, 'latin1');
          at += e.bytes.copy(out, at, e.bytes.length - e.tail);
        }
      }
      first = EMPTY;
      yield at === size ? out : out.subarray(0, at);
    }
    const m = memory();
    for (const [id, e] of this.#cache) if (e.seen < pass - 1) this.#cache.delete(id);
    yield Buffer.concat([first, Buffer.from(`],"memory":${num(m)}}${suffix}`)]);
  }

  /** The whole snapshot at once (GET /connections): the slices joined. */
  encode(conns: readonly ConnectionView[], traffic: TrafficView, memory: number, suffix = ''): Buffer {
    return Buffer.concat([...this.slices(conns, traffic, () => memory, suffix)]);
  }
}

