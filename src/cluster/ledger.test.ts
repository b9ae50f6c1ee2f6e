import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metadata } from '../core/metadata.js';
import { Tracker } from '../tunnel/tracker.js';
import { ClusterLedger } from './ledger.js';
import { TrackerReporter } from './reporter.js';

function meta(id: string): Metadata {
  return {
    id,
    network: 'tcp',
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 40000 },
    destination: { host: 'example.com', port: 80 },
  };
}

const add = (t: Tracker, id: string) => t.add({ metadata: meta(id), chains: ['DIRECT'], rule: 'Match', rulePayload: '', close: () => {} });

test('reports carry opened, moved and closed connections and byte deltas; the ledger adds them up', () => {
  const tracker = new Tracker();
  const reporter = new TrackerReporter(tracker);
  const ledger = new ClusterLedger();
  assert.equal(reporter.next(), undefined, 'nothing to say yet');

  const a = add(tracker, 'a');
  const b = add(tracker, 'b');
  a.upload = 100;
  b.download = 7;
  ledger.apply(1, reporter.next()!);
  assert.deepEqual(ledger.connections().map((c) => [c.metadata.id, c.upload, c.download, c.worker]).sort(), [['a', 100, 0, 1], ['b', 0, 7, 1]]);
  assert.deepEqual(ledger.totals(), { upload: 100, download: 7 });

  a.upload = 150;
  tracker.remove(b);
  const r = reporter.next()!;
  assert.deepEqual(r.opened, []);
  assert.deepEqual(r.closed, ['b']);
  assert.deepEqual(r.counters, [['a', 150, 0]]);
  assert.equal(r.upload, 50);
  ledger.apply(1, r);
  assert.deepEqual(ledger.connections().map((c) => c.metadata.id), ['a']);
  assert.deepEqual(ledger.totals(), { upload: 150, download: 7 });
  assert.equal(reporter.next(), undefined, 'no change, no report');

  // a second worker cannot close or overwrite the first one's rows
  ledger.apply(2, { type: 'report', opened: [], closed: ['a'], counters: [['a', 1, 1]], upload: 3, download: 0 });
  assert.equal(ledger.connections()[0]?.upload, 150);
  assert.deepEqual(ledger.workers().map((w) => [w.worker, w.live, w.opened]).sort(), [[1, 1, 2], [2, 0, 0]]);

  // a worker that exits takes its live rows along; its bytes stay counted
  ledger.workerGone(1);
  assert.deepEqual(ledger.connections(), []);
  assert.deepEqual(ledger.totals(), { upload: 153, download: 7 });
});
