/**
 * `node --import tsx bench/api-snapshot.ts`: what one /connections snapshot of 10,000
 * connections costs the encoder alone (src/api/snapshot-encoder.ts), in-process, no sockets:
 * 30 passes with idle counters, then 30 with every counter moving; prints the min and median of
 * a pass and the slowest slice. Bounded: 60 passes, a few seconds. Indicative on a shared machine.
 */
import { SnapshotEncoder } from '../src/api/snapshot-encoder.js';
import type { ConnectionView, TrafficView } from '../src/core/control-plane.js';

const N = 10_000;
const PASSES = 30;
const ids = Array.from({ length: N }, (_, i) => `0b3c5d7e-1f2a-4b3c-8d9e-${String(i).padStart(12, '0')}`);
const inbound = { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 } as const;
const traffic: TrafficView = { up: 0, down: 0, upTotal: 1, downTotal: 2 };

function views(k: number, moving: boolean): ConnectionView[] {
  return ids.map((id, i) => ({
    id,
    network: 'tcp',
    inbound,
    source: { host: '127.0.0.1', port: 40000 + (i % 20000) },
    destination: { host: '127.0.0.1', port: 8080 },
    start: 1_700_000_000_000 + i,
    chains: ['DIRECT'],
    rule: 'Match',
    rulePayload: '',
    upload: i * 7 + (moving ? k * 1000 : 0),
    download: i * 13 + (moving ? k : 0),
  }));
}

const enc = new SnapshotEncoder();
enc.encode(views(0, false), traffic, 0); // the first pass encodes every connection once
for (const moving of [false, true]) {
  const passes: number[] = [];
  let worst = 0;
  let bytes = 0;
  for (let k = 1; k <= PASSES; k++) {
    const v = views(k, moving);
    const t0 = performance.now();
    bytes = 0;
    for (const it = enc.slices(v, traffic, () => 3, '\n'); ; ) {
      const s0 = performance.now();
      const n = it.next();
      worst = Math.max(worst, performance.now() - s0);
      if (n.done) break;
      bytes += n.value.length;
    }
    passes.push(performance.now() - t0);
  }
  passes.sort((a, b) => a - b);
  console.log(`${moving ? 'every counter moving' : 'idle counters'}: a pass of ${N} connections (${(bytes / 1e6).toFixed(1)} MB) min ${passes[0].toFixed(1)} ms, median ${passes[PASSES >> 1].toFixed(1)} ms; slowest slice ${worst.toFixed(2)} ms`);
}
