import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ShakeStream } from './shake.js';

test('SHAKE128 stream equals OpenSSL shake128 output, across refills', () => {
  const seed = randomBytes(16);
  const want = createHash('shake128', { outputLength: 2000 }).update(seed).digest();
  const s = new ShakeStream(seed);
  for (let i = 0; i < 1000; i++) assert.equal(s.next16(), want.readUInt16BE(2 * i), `draw ${i}`);
});
