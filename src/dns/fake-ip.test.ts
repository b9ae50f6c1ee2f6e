import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeIpPool } from './fake-ip.js';

describe('FakeIpPool', () => {
  test('hands out addresses from the range in turn, skipping network and gateway; same domain, same address', () => {
    const p = new FakeIpPool('198.18.0.1/16');
    assert.equal(p.lookup('a.example'), '198.18.0.2');
    assert.equal(p.lookup('b.example'), '198.18.0.3');
    assert.equal(p.lookup('A.Example.'), '198.18.0.2');
    assert.equal(p.reverse('198.18.0.3'), 'b.example');
    assert.equal(p.reverse('198.18.0.9'), undefined);
    assert.ok(p.contains('198.18.200.1'));
    assert.ok(!p.contains('198.19.0.1'));
    assert.ok(!p.contains('::1'));
    assert.equal(p.capacity, 65533);
  });

  test('a full pool recycles the oldest address and forgets its old domain (bounded map)', () => {
    const p = new FakeIpPool('10.0.0.0/29'); // 8 addresses: .2 .. .6 usable (network, gateway, broadcast skipped)
    assert.equal(p.capacity, 5);
    const first = ['d0', 'd1', 'd2', 'd3', 'd4'].map((d) => p.lookup(d));
    assert.deepEqual(first, ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    assert.equal(p.lookup('d5'), '10.0.0.2');
    assert.equal(p.reverse('10.0.0.2'), 'd5');
    assert.equal(p.size, 5);
    assert.equal(p.lookup('d0'), '10.0.0.3', 'd0 lost its address and gets the next');
    for (let i = 0; i < 10_000; i++) p.lookup(`x${i}`);
    assert.equal(p.size, 5);
  });

  test('IPv6 ranges (fake-ip-range6)', () => {
    const p = new FakeIpPool('fdfe:dcba:9876::1/64');
    assert.equal(p.lookup('a.example'), 'fdfe:dcba:9876::2');
    assert.equal(p.reverse('fdfe:dcba:9876::2'), 'a.example');
    assert.ok(p.contains('fdfe:dcba:9876::ffff'));
    assert.equal(p.capacity, 65536, 'bounded whatever the prefix');
  });

  test('store file: written atomically, read back for the same range only, garbage ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clash-ts-fakeip-'));
    const file = join(dir, 'fakeip.json');
    const p = new FakeIpPool('198.18.0.1/16', { file });
    p.lookup('a.example');
    p.lookup('b.example');
    p.close();
    const back = new FakeIpPool('198.18.0.1/16', { file });
    assert.equal(back.reverse('198.18.0.3'), 'b.example');
    assert.equal(back.lookup('c.example'), '198.18.0.4', 'the cursor is kept');
    back.close();
    assert.equal(new FakeIpPool('198.19.0.1/16', { file }).size, 0, 'another range starts empty');
    writeFileSync(file, '{"range":"198.18.0.1/16","entries":[[1,"ok"],["x",1],[-5,"neg"],[99999999,"far"]],"cursor":3}');
    const junk = new FakeIpPool('198.18.0.1/16', { file });
    assert.equal(junk.size, 1);
    writeFileSync(file, 'not json');
    assert.equal(new FakeIpPool('198.18.0.1/16', { file }).size, 0);
    assert.ok(readFileSync(file, 'utf8') === 'not json');
  });

  test('flush forgets every mapping; cloneFrom takes over a same-range pool', () => {
    const a = new FakeIpPool('198.18.0.1/16');
    a.lookup('x.example');
    const b = new FakeIpPool('198.18.0.1/16');
    b.cloneFrom(a);
    assert.equal(b.reverse('198.18.0.2'), 'x.example');
    b.flush();
    assert.equal(b.reverse('198.18.0.2'), undefined);
    assert.equal(b.size, 0);
  });

  test('a copy (cluster worker): assign takes the owner\'s mappings, onAssign reports each new one, entries round-trip', () => {
    const owner = new FakeIpPool('198.18.0.1/16');
    const told: [string, string][] = [];
    owner.onAssign = (ip, d) => told.push([ip, d]);
    owner.lookup('a.example');
    owner.lookup('B.example.');
    owner.lookup('a.example'); // known: not told again
    assert.deepEqual(told, [['198.18.0.2', 'a.example'], ['198.18.0.3', 'b.example']]);
    const copy = new FakeIpPool('198.18.0.1/16');
    for (const [ip, d] of owner.entries()) assert.ok(copy.assign(ip, d));
    assert.equal(copy.reverse('198.18.0.3'), 'b.example');
    // an address given to another domain forgets the old one; so does a domain moved elsewhere
    assert.ok(copy.assign('198.18.0.3', 'c.example'));
    assert.equal(copy.reverse('198.18.0.3'), 'c.example');
    assert.equal(copy.lookup('b.example'), '198.18.0.4', 'b lost its address; the cursor follows the last assignment');
    assert.ok(copy.assign('198.18.0.9', 'a.example'));
    assert.equal(copy.reverse('198.18.0.2'), undefined);
    assert.equal(copy.assign('10.0.0.1', 'x.example'), false, 'outside the range');
    assert.equal(copy.assign('198.18.0.0', 'x.example'), false, 'the network address is never handed out');
    assert.equal(copy.assign('fd00::1', 'x.example'), false);
  });

  test('detachStore: a copy never writes the store file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clash-ts-fakeip-copy-'));
    const file = join(dir, 'fakeip.json');
    const copy = new FakeIpPool('198.18.0.1/16', { file });
    copy.detachStore();
    copy.assign('198.18.0.5', 'z.example');
    copy.close();
    assert.throws(() => readFileSync(file), /ENOENT/);
  });
});
