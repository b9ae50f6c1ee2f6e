import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseHosts, readHostsFile } from './hosts.js';

test('parses addresses, aliases, comments, tabs and CRLF', () => {
  const t = parseHosts(
    '# comment\r\n10.0.0.1\tfoo.test  Foo-Alias   # trailing\r\n' +
      '2001:db8::1 foo.test\n10.0.0.2 foo.test\n\n   \n' +
      '10.0.0.1 foo.test\n' + // duplicate ignored
      'fe80::1%eth0 zoned.test\n' + // zone index skipped
      'not-an-ip bad.test\n' +
      '10.0.0.3\n' + // no name
      '10.0.0.4 Trailing.Dot.\n',
  );
  assert.deepEqual(t.get('foo.test'), { v4: ['10.0.0.1', '10.0.0.2'], v6: ['2001:db8::1'] });
  assert.deepEqual(t.get('foo-alias'), { v4: ['10.0.0.1'], v6: [] });
  assert.equal(t.get('zoned.test'), undefined);
  assert.equal(t.get('bad.test'), undefined);
  assert.deepEqual(t.get('trailing.dot'), { v4: ['10.0.0.4'], v6: [] });
});

test('localhost is loopback in both families even when absent or half-listed', () => {
  assert.deepEqual(parseHosts('').get('localhost'), { v4: ['127.0.0.1'], v6: ['::1'] });
  assert.deepEqual(parseHosts('127.0.0.1 localhost').get('localhost'), { v4: ['127.0.0.1'], v6: ['::1'] });
  assert.deepEqual(parseHosts('127.0.1.1 localhost').get('localhost'), { v4: ['127.0.1.1'], v6: ['::1'] });
});

test('a missing file yields just localhost; a real file is read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hosts-'));
  try {
    assert.deepEqual([...readHostsFile(join(dir, 'nope')).keys()], ['localhost']);
    const file = join(dir, 'hosts');
    writeFileSync(file, '192.0.2.7 seven.test\n');
    assert.deepEqual(readHostsFile(file).get('seven.test')?.v4, ['192.0.2.7']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('random and oversized input never throws', () => {
  for (let i = 0; i < 200; i++) {
    const bytes = Buffer.alloc(200 + i);
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(Math.random() * 256);
    const t = parseHosts(bytes.toString('latin1'));
    assert.ok(t.has('localhost'));
  }
  const big = `10.0.0.1 ${'a'.repeat(300)}\n`.repeat(1000) + '10.0.0.9 ok.test\n';
  const t = parseHosts(big);
  assert.equal(t.get('a'.repeat(300)), undefined); // longer than a DNS name may be
  assert.deepEqual(t.get('ok.test')?.v4, ['10.0.0.9']);
  const many = Array.from({ length: 200 }, (_, i) => `10.0.${i >> 8}.${i & 255} many.test`).join('\n');
  assert.equal(parseHosts(many).get('many.test')?.v4.length, 64);
});
