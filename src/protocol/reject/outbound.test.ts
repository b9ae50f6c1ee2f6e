import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasCode } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { rejectSchema } from './options.js';
import { createReject, createRejectDrop, DEFAULT_DROP_MS, rejectDefinition } from './outbound.js';

const meta: Metadata = {
  id: 't',
  network: 'tcp',
  inbound: { type: 'HTTP', name: 'test', port: 0 },
  source: { host: '127.0.0.1', port: 1 },
  destination: { host: 'ads.example', port: 443 },
};
const signal = () => new AbortController().signal;

test('REJECT fails TCP and UDP at once with REJECTED naming the destination', async () => {
  const r = createReject();
  assert.deepEqual([r.name, r.type, r.udp], ['REJECT', 'Reject', true]);
  await assert.rejects(r.dialTcp(meta, { signal: signal() }), (err: unknown) => {
    assert.ok(hasCode(err, 'REJECTED'));
    assert.match((err as Error).message, /ads\.example:443.*REJECT/);
    return true;
  });
  await assert.rejects(r.dialUdp(meta, { signal: signal() }), (err: unknown) => hasCode(err, 'REJECTED'));
  await r.close();
});

test('REJECT-DROP holds the dial, then rejects', async () => {
  const d = createRejectDrop('REJECT-DROP', 60);
  assert.deepEqual([d.name, d.type], ['REJECT-DROP', 'RejectDrop']);
  assert.equal(DEFAULT_DROP_MS, 60_000);
  const t0 = Date.now();
  // The hold timer is unref'd (it must not keep a closing process alive): keep the loop up.
  const alive = setInterval(() => undefined, 1000);
  try {
    await assert.rejects(d.dialTcp(meta, { signal: signal() }), (err: unknown) => hasCode(err, 'REJECTED'));
  } finally {
    clearInterval(alive);
  }
  assert.ok(Date.now() - t0 >= 55, 'held for holdMs');
});

test('REJECT-DROP: an abort ends the hold early', async () => {
  const d = createRejectDrop('REJECT-DROP', 10_000);
  const ac = new AbortController();
  const t0 = Date.now();
  const p = d.dialTcp(meta, { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, (err: unknown) => hasCode(err, 'ABORTED'));
  assert.ok(Date.now() - t0 < 1000);
  await assert.rejects(d.dialTcp(meta, { signal: AbortSignal.abort() }), (err: unknown) => hasCode(err, 'ABORTED'));
});

test('REJECT-DROP swallows UDP and reports its close once', async () => {
  const pc = await createRejectDrop().dialUdp(meta, { signal: signal() });
  let got = 0;
  let closed = 0;
  pc.onMessage(() => got++);
  pc.onClose(() => closed++);
  pc.send(Buffer.from('x'), { host: '127.0.0.1', port: 9 });
  pc.close();
  pc.close();
  pc.onClose(() => closed++);
  assert.deepEqual([got, closed], [0, 1]);
});

test('type: reject builds a Reject under its own name', async () => {
  const o = rejectSchema.parse({ name: 'block', type: 'reject', udp: true });
  const r = rejectDefinition.create(o, undefined as never);
  assert.deepEqual([r.name, r.type], ['block', 'Reject']);
  await assert.rejects(r.dialTcp(meta, { signal: signal() }), (err: unknown) => hasCode(err, 'REJECTED'));
  assert.equal(rejectSchema.safeParse({ name: 'x', type: 'direct' }).success, false);
});
