import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatchRule } from './match.js';

test('MATCH matches everything, payload empty', () => {
  const r = new MatchRule('DIRECT');
  assert.equal(r.type, 'Match');
  assert.equal(r.payload, '');
  assert.equal(r.target, 'DIRECT');
  assert.equal(r.needsIp, false);
  assert.equal(r.match(), true);
});
