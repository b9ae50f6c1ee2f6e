import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainTable } from './domain-table.js';

describe('DomainTable (mihomo domain trie patterns)', () => {
  test('exact, +., ., *. and inner *; the most specific wins', () => {
    const t = new DomainTable<string>()
      .set('a.example', 'exact')
      .set('+.example', 'plus')
      .set('.dot.example', 'dot')
      .set('*.one.example', 'one')
      .set('x.*.mid.example', 'mid');
    assert.equal(t.get('a.example'), 'exact');
    assert.equal(t.get('A.EXAMPLE.'), 'exact');
    assert.equal(t.get('example'), 'plus');
    assert.equal(t.get('deep.b.example'), 'plus');
    assert.equal(t.get('dot.example'), 'plus', '.dot.example does not match dot.example itself: +.example does');
    assert.equal(t.get('s.dot.example'), 'dot');
    assert.equal(t.get('s.one.example'), 'one');
    assert.equal(t.get('t.s.one.example'), 'plus', '*. is one label only');
    assert.equal(t.get('x.y.mid.example'), 'mid');
    assert.equal(t.get('other.test'), undefined);
  });
});
