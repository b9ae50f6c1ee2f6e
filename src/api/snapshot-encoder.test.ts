import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { ConnectionView, TrafficView } from '../core/control-plane.js';
import { snapshotJson } from './shapes.js';
import { SnapshotEncoder } from './snapshot-encoder.js';

function view(i: number): ConnectionView {
  const odd = `名前 "q" \\ ${randomBytes(3).toString('latin1')}\n`;
  return {
    id: `id-${i}`,
    network: i % 3 === 0 ? 'udp' : 'tcp',
    inbound: { type: i % 2 ? 'SOCKS5' : 'HTTP', name: i % 5 === 0 ? odd : 'DEFAULT-MIXED', port: 7890, ...(i % 4 === 0 && { user: odd }) },
    source: { host: i % 2 ? '127.0.0.1' : '::1', port: 40000 + i },
    destination: { host: i % 2 ? `host-${i}.example` : '10.0.0.1', port: 443 },
    ...(i % 3 === 1 && { destinationIp: '192.0.2.7' }),
    start: 1_700_000_000_000 + i,
    chains: i % 2 ? ['DIRECT'] : ['leaf', odd, 'group'],
    rule: i % 2 ? 'Match' : 'DomainSuffix',
    rulePayload: i % 2 ? '' : odd,
    upload: i * 7,
    download: i * 13,
  } as ConnectionView;
}

const traffic: TrafficView = { up: 1, down: 2, upTotal: 123456789, downTotal: 987654321 };

test('the text is exactly JSON.stringify of the snapshot, as counters change and connections come and go', () => {
  const enc = new SnapshotEncoder();
  let conns = Array.from({ length: 200 }, (_, i) => view(i));
  for (let round = 0; round < 5; round++) {
    assert.equal(enc.encode(conns, traffic, 4242 + round).toString('utf8'), JSON.stringify(snapshotJson(conns, traffic, 4242 + round)), `round ${round}`);
    // counters move; some connections end, new ones start
    conns = conns.filter((_, i) => (i + round) % 7 !== 0).map((c) => ({ ...c, upload: c.upload + 1000 * round, download: c.download + 17 }));
    conns.push(...Array.from({ length: 20 }, (_, k) => view(1000 + round * 20 + k)));
  }
  assert.equal(enc.encode([], traffic, 0).toString('utf8'), JSON.stringify(snapshotJson([], traffic, 0)));
});

test('slices of any size join to the same text, each bounded; the suffix ends the last', () => {
  const enc = new SnapshotEncoder();
  const conns = Array.from({ length: 103 }, (_, i) => view(i));
  const want = JSON.stringify(snapshotJson(conns, traffic, 7)) + '\n';
  for (const per of [1, 2, 10, 50, 103, 500]) {
    let memoryAsked = 0;
    const slices = [...enc.slices(conns, traffic, () => (memoryAsked++, 7), '\n', per)];
    assert.equal(Buffer.concat(slices).toString('utf8'), want, `per ${per}`);
    assert.equal(slices.length, Math.ceil(103 / per) + 1, `per ${per}: one slice per ${per} connections and the tail`);
    assert.equal(memoryAsked, 1);
  }
  // counters that move are rewritten, those that do not are copied: the text stays exact
  const moved = conns.map((c, i) => (i % 2 ? { ...c, upload: c.upload * 1_000_003 + 1, download: 2 ** 53 - i } : c));
  assert.equal(Buffer.concat([...enc.slices(moved, traffic, () => 7, '\n', 9)]).toString('utf8'), JSON.stringify(snapshotJson(moved, traffic, 7)) + '\n');
});

test('the JSON of connections that ended is forgotten; what is kept is bounded by what is live', () => {
  const enc = new SnapshotEncoder();
  const a = Array.from({ length: 50 }, (_, i) => view(i));
  const b = Array.from({ length: 30 }, (_, i) => view(100 + i));
  enc.encode(a, traffic, 1);
  assert.equal(enc.cached, 50);
  enc.encode(b, traffic, 1); // the last two passes listed a and b
  assert.equal(enc.cached, 80);
  enc.encode(b, traffic, 1); // a was listed by neither of the last two
  assert.equal(enc.cached, 30);
  enc.clear();
  assert.equal(enc.cached, 0);
  // a pass abandoned half way (the reader went) leaves the cache consistent
  const it = enc.slices(a, traffic, () => 1, '', 10);
  it.next();
  it.return(undefined);
  assert.equal(enc.encode(a, traffic, 2).toString('utf8'), JSON.stringify(snapshotJson(a, traffic, 2)));
});

test('a live iterator walked across slices: connections that end before they are reached are left out, each listed once', () => {
  const enc = new SnapshotEncoder();
  const live = new Map(Array.from({ length: 60 }, (_, i) => [`id-${i}`, view(i)] as const));
  const out: Buffer[] = [];
  let k = 0;
  for (const s of enc.slices(live.values(), traffic, () => 1, '', 10)) {
    out.push(s);
    if (k++ === 0) {
      live.delete('id-5'); // already listed: stays in this snapshot
      live.delete('id-40'); // not reached yet: left out
      live.set('id-1000', view(1000)); // started during the pass: reached at the end
    }
  }
  const snap = JSON.parse(Buffer.concat(out).toString('utf8')) as { connections: { id: string }[] };
  const ids = snap.connections.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, 'no connection twice');
  assert.ok(ids.includes('id-5') && !ids.includes('id-40') && ids.includes('id-1000'));
  assert.equal(ids.length, 60);
});
