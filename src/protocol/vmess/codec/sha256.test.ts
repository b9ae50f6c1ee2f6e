import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { absorbBlock, EMPTY_MIDSTATE, finishInto } from './sha256.js';

const hex = (mid: typeof EMPTY_MIDSTATE, msg: Uint8Array): string => {
  const out = Buffer.alloc(32);
  finishInto(mid, msg, out);
  return out.toString('hex');
};

test('SHA-256 matches node:crypto for every length around the block and padding edges', () => {
  for (let n = 0; n <= 200; n++) {
    const data = randomBytes(n);
    assert.equal(hex(EMPTY_MIDSTATE, data), createHash('sha256').update(data).digest('hex'), `length ${n}`);
  }
});

test('SHA-256 resumed from saved block prefixes equals the one-shot hash, and leaves them intact', () => {
  const data = randomBytes(300);
  const one = absorbBlock(EMPTY_MIDSTATE, data, 0);
  const two = absorbBlock(one, data, 64);
  for (const [mid, at] of [[one, 64], [two, 128], [one, 64]] as const) {
    assert.equal(hex(mid, data.subarray(at)), createHash('sha256').update(data).digest('hex'), `resumed at ${at}`);
  }
  assert.equal(hex(EMPTY_MIDSTATE, data), createHash('sha256').update(data).digest('hex'));
});
