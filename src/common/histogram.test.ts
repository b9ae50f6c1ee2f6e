import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram } from './histogram.js';

test('observations land in the first bucket whose bound holds them; counts are cumulative', () => {
  const h = new Histogram([1, 5, 10]);
  for (const v of [0, 1, 1.5, 5, 9.99, 10, 11, 1e9]) h.observe(v);
  assert.deepEqual(h.cumulative(), [2, 4, 6, 8]);
  assert.equal(h.count, 8);
  assert.equal(h.sum, 0 + 1 + 1.5 + 5 + 9.99 + 10 + 11 + 1e9);
});

test('add() folds in pre-bucketed counts', () => {
  const h = new Histogram([1, 2]);
  h.observe(0.5);
  h.add([1, 2, 3], 10);
  assert.deepEqual(h.cumulative(), [2, 4, 7]);
  assert.equal(h.count, 7);
  assert.equal(h.sum, 10.5);
});
