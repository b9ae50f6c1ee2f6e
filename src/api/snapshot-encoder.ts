/**
 * The /connections snapshot as JSON text, built cheaply: a connection's id, metadata, start,
 * chains and rule never change, so their JSON is made once per connection and kept; each
 * snapshot then only writes the byte counters between the cached pieces. With 10,000 live
 * connections and a reader at 1 s this is most of what the API costs (docs/benchmarks.md,
 * api-cost). The text is exactly JSON.stringify(snapshotJson(...)): the same keys in the same order.
 */
import type { ConnectionView, TrafficView } from '../core/control-plane.js';
import { connectionJson } from './shapes.js';

/** [text before upload, text after download] of one connection */
type Pieces = readonly [string, string];

export class SnapshotEncoder {
  #pieces = new Map<string, Pieces>();

  #of(c: ConnectionView): Pieces {
    const hit = this.#pieces.get(c.id);
    if (hit) return hit;
    const { upload: _u, download: _d, ...rest } = connectionJson(c);
    const { id, metadata, start, chains, rule, rulePayload } = rest as Record<string, unknown>;
    const before = `{"id":${JSON.stringify(id)},"metadata":${JSON.stringify(metadata)},"upload":`;
    const after = `,"start":${JSON.stringify(start)},"chains":${JSON.stringify(chains)},"rule":${JSON.stringify(rule)},"rulePayload":${JSON.stringify(rulePayload)}}`;
    const p: Pieces = [before, after];
    this.#pieces.set(c.id, p);
    return p;
  }

  /** JSON text of GET /connections; forgets the connections that are gone. */
  encode(conns: readonly ConnectionView[], traffic: TrafficView, memory: number): string {
    const next = new Map<string, Pieces>();
    const parts: string[] = new Array<string>(conns.length);
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i];
      const p = this.#of(c);
      next.set(c.id, p);
      parts[i] = `${p[0]}${c.upload},"download":${c.download}${p[1]}`;
    }
    this.#pieces = next;
    return `{"downloadTotal":${traffic.downTotal},"uploadTotal":${traffic.upTotal},"connections":[${parts.join(',')}],"memory":${memory}}`;
  }
}
