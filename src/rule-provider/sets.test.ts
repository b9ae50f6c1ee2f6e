import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { HashedDomainSet } from './domain-set.js';
import { RangeIpSet } from './ip-set.js';
import { readMrs, writeMrs, zstdDecompress, zstdStore } from './mrs.js';
import { textEntries, yamlEntries } from './payload.js';
import { buildSet, buildTextSet } from './rule-set-data.js';

test('domain set: mihomo forms and refusals', () => {
  const s = new HashedDomainSet();
  for (const e of ['Example.COM', '+.g.test', '.u.test', '*.w.test', 'a.*.m.test', '+.*.deep.test']) assert.equal(s.insert(e), undefined, e);
  for (const e of ['', 'x.', ' a.test', 'a..b', 'a/b']) assert.notEqual(s.insert(e), undefined, JSON.stringify(e));
  assert.equal(s.count, 6);
  const yes = ['example.com', 'g.test', 'x.y.g.test', 'x.u.test', 'a.w.test', 'a.b.m.test', 'q.z.deep.test', 'z.deep.test', 'example.com.'];
  const no = ['www.example.com', 'u.test', 'w.test', 'a.b.w.test', 'a.m.test', 'deep.test', 'xg.test', ''];
  for (const h of yes) assert.equal(s.has(h), true, h);
  for (const h of no) assert.equal(s.has(h), false, h);
});

test('domain set from text: one scan, the same set and refusals as entry by entry', () => {
  const lines = ['# c', '// c', '', ' Example.COM ', '+.g.test\r', '.u.test', '*.w.test', 'a.*.m.test', '+.*.deep.test', 'x.', 'a..b', 'a/b', '\u00e9t\u00e9.test', 'B\u00fccher.DE', '+.', '.', 'plain.test'];
  const text = lines.join('\n');
  const fromText = buildTextSet('domain', text);
  const fromEntries = buildSet('domain', textEntries(text).entries);
  assert.equal(fromText.data.count, fromEntries.data.count);
  assert.deepEqual(fromText.refused, fromEntries.refused);
  assert.equal(fromText.refusedCount, 5);
  const asked = ['example.com', 'g.test', 'x.g.test', 'u.test', 'x.u.test', 'a.w.test', 'a.b.m.test', 'q.deep.test', 'x', 'plain.test', 'www.plain.test', '\u00e9t\u00e9.test', 'b\u00fccher.de', 'nope.test'];
  for (const h of asked) assert.equal(fromText.data.hasDomain(h), fromEntries.data.hasDomain(h), h);
  assert.equal(fromText.data.hasDomain('x.g.test'), true);
  assert.equal(fromText.data.hasDomain('u.test'), false);
});

test('ip set: merged ranges, both families, mapped IPv4', () => {
  const s = new RangeIpSet();
  for (const c of ['10.0.0.0/8', '10.0.0.0/24', '11.0.0.0/8', '0.0.0.0/32', '255.255.255.255/32', '::/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 'fe80::/10']) {
    assert.equal(s.insert(c), undefined, c);
  }
  assert.notEqual(s.insert('10.0.0.0/33'), undefined);
  assert.notEqual(s.insert('nope'), undefined);
  s.finish();
  assert.equal(s.rangeCount, 6); // 10/8 + 11/8 merge
  for (const ip of ['10.255.255.255', '11.0.0.0', '0.0.0.0', '255.255.255.255', '::', 'fe80::1', 'febf:ffff::', '::ffff:11.1.1.1']) assert.equal(s.has(ip), true, ip);
  for (const ip of ['12.0.0.0', '9.255.255.255', '0.0.0.1', '::1', 'fec0::', 'x']) assert.equal(s.has(ip), false, ip);
});

test('mrs: round trip of both behaviours; truncated, random and lying input is a clear error', () => {
  const d = new HashedDomainSet();
  for (let i = 0; i < 2000; i++) d.insert(i % 3 === 0 ? `+.n${i}.test` : `n${i}.example`);
  d.insert('*.wild.test');
  const file = writeMrs({ behavior: 'domain', count: d.count, domains: d });
  const back = readMrs(file, 'domain').domains!;
  assert.deepEqual([...back.keys()].sort(), [...d.keys()].sort());
  assert.equal(back.has('a.n3.test'), true);
  assert.equal(back.has('n4.example'), true);
  assert.equal(back.has('x.wild.test'), true);
  assert.equal(back.has('n5.test'), false);
  assert.throws(() => readMrs(file, 'ipcidr'), /invalid behavior/);

  const ips = new RangeIpSet();
  ips.insert('1.2.3.0/24');
  ips.insert('2001:db8::/64');
  const ipFile = writeMrs({ behavior: 'ipcidr', count: 2, ips: ips.finish() });
  const ipBack = readMrs(ipFile, 'ipcidr');
  assert.equal(ipBack.count, 2);
  assert.equal(ipBack.ips!.has('1.2.3.9'), true);
  assert.equal(ipBack.ips!.has('2001:db8::ffff'), true);
  assert.equal(ipBack.ips!.has('2001:db8:0:1::'), false);

  const raw = zstdDecompress(file);
  for (const cut of [0, 3, 5, 12, 20, 30, raw.length - 1]) {
    assert.throws(() => readMrs(zstdStore(raw.subarray(0, cut)), 'domain'), /mrs|MrsMagic|invalid|length/, `cut ${cut}`);
  }
  // a length field claiming more than the data holds is refused before any allocation
  const lying = Buffer.from(raw);
  lying.writeBigInt64BE(2n ** 40n, 22); // the leaves length
  assert.throws(() => readMrs(zstdStore(lying), 'domain'), /exceeds the data/);
  for (let i = 0; i < 200; i++) {
    const junk = randomBytes(1 + (i % 300));
    assert.throws(() => readMrs(junk, i % 2 ? 'domain' : 'ipcidr'));
    assert.throws(() => readMrs(zstdStore(Buffer.concat([Buffer.from('MRS\x01\x00'), junk])), 'domain'));
  }
  // a zstd bomb is cut at the limit
  assert.throws(() => zstdDecompress(zstdStore(Buffer.alloc(300_000)), 100_000), /exceeds/);
});

test('payload readers: yaml line by line, flow lists, text comments; random input never crashes', () => {
  const y = yamlEntries("payload:\n  - a.test\n  - 'b.test'\n  - \"c\\u002etest\"\n  - d.test # note\n  -\n  x\nother: 1\n  - after.test\n");
  assert.deepEqual(y.entries, ['a.test', 'b.test', 'c.test', 'd.test']);
  assert.equal(y.skippedCount, 1);
  assert.match(y.skipped[0], /^line 7 "x": not a list entry$/);
  assert.deepEqual(yamlEntries('payload: [a.test, "b.test"]\n').entries, ['a.test', 'b.test']);
  assert.deepEqual(yamlEntries('rules:\n  - DOMAIN,x.test\n').entries, ['DOMAIN,x.test']);
  assert.throws(() => yamlEntries('hello: 1\n'), /payload/);
  assert.deepEqual(textEntries('# c\n// c\n\n a.test \r\nb.test').entries, ['a.test', 'b.test']);
  for (let i = 0; i < 300; i++) {
    const junk = randomBytes(1 + (i % 500)).toString('latin1');
    try {
      yamlEntries(`payload:\n${junk}`);
      yamlEntries(junk);
    } catch (err) {
      assert.ok(err instanceof Error);
    }
    textEntries(junk);
  }
});
