import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkToPrimary, checkToWorker, type ToPrimary } from './messages.js';

const snapshot = {
  metadata: {
    id: '3f1c1f1e-0000-4000-8000-000000000001',
    network: 'tcp',
    inbound: { type: 'SOCKS5', name: 'DEFAULT-MIXED', port: 7890 },
    source: { host: '127.0.0.1', port: 50000 },
    destination: { host: 'example.com', port: 443 },
  },
  start: 1_700_000_000_000,
  chains: ['DIRECT', 'sel'],
  rule: 'Match',
  rulePayload: '',
  upload: 10,
  download: 20,
};
const report: ToPrimary = { type: 'report', opened: [snapshot] as never, closed: ['x'], counters: [['a', 1, 2]], upload: 5, download: 6 };

test('well-formed messages pass both ways', () => {
  for (const m of [{ type: 'hello' }, { type: 'ready' }, { type: 'start-failed', message: 'EADDRINUSE' }, report, { type: 'ack', seq: 3, ok: true }]) {
    const r = checkToPrimary(m);
    assert.ok(r.ok, JSON.stringify(m));
  }
  for (const m of [
    { type: 'start', yaml: 'mixed-port: 1\n', overrides: { secret: 's' }, selections: [['sel', 'REJECT']], reportMs: 500, udpRelays: true },
    { type: 'start', yaml: 'mixed-port: 1\n', overrides: {}, selections: [], reportMs: 500, udpRelays: false, homeDir: '/home/x/.config/clash-ts' },
    { type: 'select', seq: 0, group: 'sel', member: 'DIRECT' },
    { type: 'unfix', seq: 4, group: 'auto' },
    { type: 'update-provider', seq: 5, name: 'sub' },
    { type: 'close-connection', seq: 1, id: 'abc' },
    { type: 'stop', graceMs: 3000 },
  ]) {
    assert.ok(checkToWorker(m).ok, JSON.stringify(m));
  }
});

test('truncated messages are refused with the field named', () => {
  const r = checkToPrimary({ type: 'report', opened: [], closed: [] });
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.problem : '', /counters/);
  const { metadata: _m, ...noMeta } = snapshot;
  assert.equal(checkToPrimary({ ...report, opened: [noMeta] }).ok, false);
  assert.equal(checkToWorker({ type: 'select', seq: 1, group: 'sel' }).ok, false);
  assert.equal(checkToWorker({ type: 'start', yaml: '' }).ok, false);
  assert.equal(checkToWorker({ type: 'unfix', seq: 1 }).ok, false);
  assert.equal(checkToWorker({ type: 'update-provider', seq: 1 }).ok, false);
  assert.equal(checkToWorker({ type: 'update-provider', seq: -1, name: 'sub' }).ok, false);
  assert.equal(checkToWorker({ type: 'start', yaml: 'x', overrides: {}, selections: [], reportMs: 500, udpRelays: true, homeDir: 7 }).ok, false);
});

test('wrong types are refused', () => {
  const bad: unknown[] = [
    { ...report, upload: -1 },
    { ...report, download: 1.5 },
    { ...report, upload: '5' },
    { ...report, counters: [['a', 1]] },
    { ...report, counters: [[1, 1, 2]] },
    { ...report, closed: [7] },
    { ...report, opened: [{ ...snapshot, metadata: { ...snapshot.metadata, network: 'sctp' } }] },
    { ...report, opened: [{ ...snapshot, metadata: { ...snapshot.metadata, inbound: { ...snapshot.metadata.inbound, type: 'TUN' } } }] },
    { ...report, opened: [{ ...snapshot, metadata: { ...snapshot.metadata, source: { host: 'h', port: 70000 } } }] },
    { type: 'ack', seq: -1, ok: true },
    { type: 'ack', seq: 1, ok: 'yes' },
    { type: 'nonsense' },
    { type: 'report' },
  ];
  for (const m of bad) assert.equal(checkToPrimary(m).ok, false, JSON.stringify(m));
  assert.equal(checkToWorker({ type: 'stop', graceMs: -5 }).ok, false);
  assert.equal(checkToWorker({ type: 'start', yaml: 'x', overrides: { workers: 'two' }, selections: [], reportMs: 500, udpRelays: true }).ok, false);
  assert.equal(checkToWorker({ type: 'start', yaml: 'x', overrides: {}, selections: [['only-group']], reportMs: 500, udpRelays: false }).ok, false);
  assert.equal(checkToWorker({ type: 'start', yaml: 'x', overrides: {}, selections: [], reportMs: 500 }).ok, false, 'udpRelays is required');
  assert.equal(checkToWorker({ type: 'start', yaml: 'x', overrides: {}, selections: [], reportMs: 0, udpRelays: true }).ok, false);
});

/** A small deterministic PRNG, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 8));
  switch (k) {
    case 0: return null;
    case 1: return undefined;
    case 2: return r() * 1e6 - 5e5;
    case 3: return ['report', 'ack', 'select', 'start', 'stop', '', 'x'][Math.floor(r() * 7)];
    case 4: return r() < 0.5;
    case 5: return Math.floor(r() * 100);
    case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (const key of ['type', 'seq', 'ok', 'opened', 'closed', 'counters', 'upload', 'download', 'group', 'member', 'yaml']) {
        if (r() < 0.4) o[key] = randomValue(r, depth + 1);
      }
      return o;
    }
  }
}

/** Replaces one field somewhere in `v` with a random value. */
function mutate(v: unknown, r: () => number): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [randomValue(r)] : v.map((x, i) => (i === Math.floor(r() * v.length) ? mutate(x, r) : x));
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    const pick = keys[Math.floor(r() * keys.length)] as string;
    return { ...(v as object), [pick]: r() < 0.5 ? randomValue(r) : mutate((v as Record<string, unknown>)[pick], r) };
  }
  return randomValue(r);
}

test('random and mutated messages never throw, and only valid ones pass', () => {
  const r = rng(20261204);
  for (let i = 0; i < 5000; i++) {
    const m = i % 2 === 0 ? randomValue(r) : mutate(report, r);
    const a = checkToPrimary(m);
    const b = checkToWorker(m);
    // whatever passes is a well-typed message
    if (a.ok) assert.ok(['hello', 'ready', 'start-failed', 'report', 'ack'].includes(a.message.type));
    if (b.ok) assert.ok(['start', 'select', 'close-connection', 'stop'].includes(b.message.type));
  }
});
