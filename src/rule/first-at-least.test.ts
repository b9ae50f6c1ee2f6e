import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstAtLeast } from './first-at-least.js';

test('smallest entry at or after from', () => {
  assert.equal(firstAtLeast([1, 5, 9], 0), 1);
  assert.equal(firstAtLeast([1, 5, 9], 5), 5);
  assert.equal(firstAtLeast([1, 5, 9], 6), 9);
  assert.equal(firstAtLeast([1, 5, 9], 10), -1);
  assert.equal(firstAtLeast([], 0), -1);
});
