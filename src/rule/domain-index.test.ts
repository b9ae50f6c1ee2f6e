import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainIndex } from './domain-index.js';

test('suffix keys match the name and its subdomains only', () => {
  const d = new DomainIndex();
  d.addSuffix('google.com', 0);
  assert.equal(d.lookup('google.com'), 0);
  assert.equal(d.lookup('a.b.google.com'), 0);
  assert.equal(d.lookup('notgoogle.com'), -1);
  assert.equal(d.lookup('google.com.hk'), -1);
  assert.equal(d.lookup('com'), -1);
  assert.equal(d.lookup(''), -1);
});

test('exact keys match the whole name only', () => {
  const d = new DomainIndex();
  d.addExact('a.com', 3);
  assert.equal(d.lookup('a.com'), 3);
  assert.equal(d.lookup('x.a.com'), -1);
});

test('the smallest matching index wins, whichever label it sits on', () => {
  const d = new DomainIndex();
  d.addSuffix('b.a.com', 0);
  d.addSuffix('com', 1);
  d.addExact('c.b.a.com', 2);
  d.addSuffix('a.com', 3);
  assert.equal(d.lookup('c.b.a.com'), 0);
  assert.equal(d.lookup('x.a.com'), 1);
  assert.equal(d.lookup('c.b.a.com', 1), 1);
  assert.equal(d.lookup('c.b.a.com', 2), 2);
  assert.equal(d.lookup('c.b.a.com', 3), 3);
  assert.equal(d.lookup('c.b.a.com', 4), -1);
});

test('keys written twice keep every index, for resuming after PASS', () => {
  const d = new DomainIndex();
  d.addSuffix('a.com', 1);
  d.addSuffix('a.com', 5);
  d.addSuffix('a.com', 9);
  assert.equal(d.size, 1);
  assert.equal(d.lookup('x.a.com'), 1);
  assert.equal(d.lookup('x.a.com', 2), 5);
  assert.equal(d.lookup('x.a.com', 6), 9);
  assert.equal(d.lookup('x.a.com', 10), -1);
});

test('edge cases agree with a plain suffix test', () => {
  const d = new DomainIndex();
  d.addSuffix('', 0); // matches '' and names ending in '.', as host == "" || hasSuffix(host, ".")
  assert.equal(d.lookup(''), 0);
  assert.equal(d.lookup('a.com.'), 0);
  assert.equal(d.lookup('a.com'), -1);
  const dot = new DomainIndex();
  dot.addSuffix('.a.com', 0);
  assert.equal(dot.lookup('x.a.com'), -1);
  assert.equal(dot.lookup('x..a.com'), 0);
});
