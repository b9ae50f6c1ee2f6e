import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, type LogEntry } from '../common/log.js';
import { DashboardStorage, STORAGE_MAX_KEYS, STORAGE_MAX_VALUE } from './storage-file.js';

function logger(): { log: ReturnType<typeof createLogger>; lines: LogEntry[] } {
  const log = createLogger('info', () => {});
  const lines: LogEntry[] = [];
  log.subscribe((e) => lines.push(e));
  return { log, lines };
}

test('values survive a new instance on the same file; the file is replaced whole, no temp file left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-storage-'));
  const path = join(dir, 'dashboard-storage.json');
  const { log } = logger();
  const a = new DashboardStorage(path, log);
  for (let i = 0; i < 50; i++) a.set('zashboard', JSON.stringify({ round: i }));
  a.set('other', '[1,2,3]');
  a.set('gone', '"x"');
  a.delete('gone');
  await a.settled();
  assert.deepEqual(readdirSync(dir), ['dashboard-storage.json']);
  const b = new DashboardStorage(path, log);
  assert.equal(b.size, 2);
  assert.equal(b.get('zashboard'), '{"round":49}', 'the last state is the one on disk');
  assert.equal(b.get('other'), '[1,2,3]');
  assert.equal(b.has('gone'), false);
});

test('a bad file is ignored with a warning: random bytes, truncated JSON, wrong shapes, oversized', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-storage-'));
  const path = join(dir, 's.json');
  const cases: [string, Buffer | string][] = [
    ['random', randomBytes(4096)],
    ['truncated', '{"zashboard":"{\\"a\\":'],
    ['array', '[1,2]'],
    ['oversized', Buffer.alloc(STORAGE_MAX_KEYS * (STORAGE_MAX_VALUE * 2 + 256) + 1, 0x20)],
  ];
  for (const [name, body] of cases) {
    writeFileSync(path, body);
    const { log, lines } = logger();
    const s = new DashboardStorage(path, log);
    assert.equal(s.size, 0, name);
    assert.ok(lines.some((l) => l.level === 'warning' && l.message.startsWith(`[Storage] ignoring ${path}`)), name);
  }
  // entries that break the bounds are skipped, the rest kept
  const many: Record<string, unknown> = { ok: '{"a":1}', 'bad key!': '1', notText: 5, notJson: '{', big: JSON.stringify('x'.repeat(STORAGE_MAX_VALUE)) };
  for (let i = 0; i < 100; i++) many[`k${i}`] = String(i);
  writeFileSync(path, JSON.stringify(many));
  const s = new DashboardStorage(path, logger().log);
  assert.equal(s.get('ok'), '{"a":1}');
  assert.equal(s.has('bad key!') || s.has('notText') || s.has('notJson') || s.has('big'), false);
  assert.equal(s.size, STORAGE_MAX_KEYS);
});

test('a write that fails is logged clearly; the values stay served from memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-storage-'));
  const path = join(dir, 'taken');
  mkdirSync(path); // a folder where the file should go: rename fails even for root
  const { log, lines } = logger();
  const s = new DashboardStorage(path, log);
  s.set('zashboard', '{"theme":"dark"}');
  await s.settled();
  assert.equal(s.get('zashboard'), '{"theme":"dark"}');
  const w = lines.find((l) => l.level === 'warning' && l.message.includes(`[Storage] cannot save ${path}`));
  assert.ok(w, JSON.stringify(lines));
  assert.deepEqual(readdirSync(dir), ['taken'], 'the temp file is removed');
  // and the next change tries again
  s.set('zashboard', '{"theme":"light"}');
  await s.settled();
  assert.equal(lines.filter((l) => l.message.includes('cannot save')).length, 2);
});

test('without a path it is memory only', async () => {
  const s = new DashboardStorage(undefined, logger().log);
  s.set('a', '1');
  await s.settled();
  assert.equal(s.get('a'), '1');
});

test('the file holds the values as JSON text', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clash-ts-storage-'));
  const path = join(dir, 's.json');
  const s = new DashboardStorage(path, logger().log);
  s.set('zashboard', '{"a":[1,2]}');
  await s.settled();
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { zashboard: '{"a":[1,2]}' });
});
