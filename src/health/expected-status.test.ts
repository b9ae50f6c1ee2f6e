import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ExpectedStatus } from './expected-status.js';
import { DelayHistory, HISTORY_LENGTH } from './history.js';

test('expected-status: any, codes, ranges; bad parts are named', () => {
  assert.equal(ExpectedStatus.parse('').matches(500), true);
  assert.equal(ExpectedStatus.parse('*').matches(101), true);
  const e = ExpectedStatus.parse('200/302/400-503');
  assert.deepEqual([200, 204, 302, 399, 400, 450, 503, 504].map((s) => e.matches(s)), [true, false, true, false, true, true, true, false]);
  assert.equal(ExpectedStatus.parse(' 204 ').matches(204), true);
  for (const bad of ['20', '2000', '200-', '300-200', 'abc', '200//204', '099', '600']) {
    assert.throws(() => ExpectedStatus.parse(bad), /expected-status/, bad);
  }
  // random text: an Error or a matcher, never anything else
  for (let i = 0; i < 500; i++) {
    const text = randomBytes(1 + (i % 12)).toString('latin1');
    try {
      ExpectedStatus.parse(text).matches(200);
    } catch (err) {
      assert.ok(err instanceof Error && /expected-status/.test(err.message));
    }
  }
});

test('delay history keeps the last ten per name, oldest first, and prunes names', () => {
  const h = new DelayHistory();
  for (let i = 1; i <= 15; i++) h.record('a', i, i);
  assert.equal(h.of('a').length, HISTORY_LENGTH);
  assert.deepEqual(h.of('a').map((r) => r.delay), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.equal(h.last('a'), 15);
  h.record('b', 0);
  assert.equal(h.last('b'), 0);
  assert.equal(h.last('none'), 0);
  h.prune((n) => n === 'a');
  assert.deepEqual(h.of('b'), []);
});
