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
    assert.equal(enc.encode(conns, traffic, 4242 + round), JSON.stringify(snapshotJson(conns, traffic, 4242 + round)), `round ${round}`);
    // counters move; some connections end, new ones start
    conns = conns.filter((_, i) => (i + round) % 7 !== 0).map((c) => ({ ...c, upload: c.upload + 1000 * round, download: c.download + 17 }));
    conns.push(...Array.from({ length: 20 }, (_, k) => view(1000 + round * 20 + k)));
  }
  assert.equal(enc.encode([], traffic, 0), JSON.stringify(snapshotJson([], traffic, 0)));
});
