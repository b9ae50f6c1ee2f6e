import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContainsWords, ipWords, parseCidr, type Cidr } from '../common/cidr.js';
import { CidrTrie } from './cidr-trie.js';

const c = (t: string): Cidr => parseCidr(t)!;
const w = (ip: string): Uint32Array => ipWords(ip)!;

test('finds the first rule whose prefix holds the IP, both families', () => {
  const t = new CidrTrie();
  t.insert(c('10.1.0.0/16'), 0);
  t.insert(c('10.0.0.0/8'), 1);
  t.insert(c('2001:db8::/32'), 2);
  t.insert(c('0.0.0.0/0'), 3);
  assert.equal(t.lookup(w('10.1.2.3')), 0);
  assert.equal(t.lookup(w('10.2.2.3')), 1);
  assert.equal(t.lookup(w('11.0.0.1')), 3);
  assert.equal(t.lookup(w('2001:db8::1')), 2);
  assert.equal(t.lookup(w('2001:db9::1')), -1); // 0.0.0.0/0 is IPv4 only
  assert.equal(t.lookup(w('10.1.2.3'), 1), 1);
  assert.equal(t.lookup(w('10.1.2.3'), 2), 3);
  assert.equal(t.lookup(w('10.1.2.3'), 4), -1);
});

test('a broader prefix earlier in the list beats a narrower one later', () => {
  const t = new CidrTrie();
  t.insert(c('10.0.0.0/8'), 0);
  t.insert(c('10.1.0.0/16'), 1);
  assert.equal(t.lookup(w('10.1.2.3')), 0);
  assert.equal(t.lookup(w('10.1.2.3'), 1), 1);
});

test('/32 and /128 host routes; duplicates keep every index', () => {
  const t = new CidrTrie();
  t.insert(c('1.2.3.4/32'), 0);
  t.insert(c('::1/128'), 1);
  t.insert(c('1.2.3.4/32'), 2);
  assert.equal(t.lookup(w('1.2.3.4')), 0);
  assert.equal(t.lookup(w('1.2.3.4'), 1), 2);
  assert.equal(t.lookup(w('1.2.3.5')), -1);
  assert.equal(t.lookup(w('::1')), 1);
  assert.equal(t.lookup(w('::2')), -1);
});

test('agrees with a linear scan over random prefixes (and grows past its first arrays)', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0);
  const cidrs: Cidr[] = [];
  const t = new CidrTrie();
  for (let i = 0; i < 2000; i++) {
    const bits = 8 + (rnd() % 25);
    const ip = rnd();
    const cidr = c(`${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/${bits}`);
    cidrs.push(cidr);
    t.insert(cidr, i);
  }
  assert.ok(t.nodeCount > 64);
  for (let k = 0; k < 2000; k++) {
    const ip = Uint32Array.of(k % 2 === 0 ? rnd() : cidrs[rnd() % cidrs.length].words[0] ^ (rnd() & 0xff));
    const from = rnd() % 100;
    const expected = cidrs.findIndex((x, i) => i >= from && cidrContainsWords(x, ip));
    assert.equal(t.lookup(ip, from), expected);
  }
});
