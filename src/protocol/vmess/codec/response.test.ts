import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { openResponseHeader, responseKeys, sealResponseHeader } from './response.js';

const keys = responseKeys(randomBytes(16), randomBytes(16));

test('response header round trip, with and without a command', () => {
  for (const commandData of [Buffer.alloc(0), randomBytes(20)]) {
    const sealed = sealResponseHeader(keys, { responseAuth: 7, option: 0, command: commandData.length ? 1 : 0, commandData });
    const more = Buffer.concat([sealed, Buffer.from('body')]);
    const r = openResponseHeader(keys, more);
    assert.ok(r);
    assert.equal(r.length, sealed.length);
    assert.equal(r.header.responseAuth, 7);
    assert.deepEqual(r.header.commandData, commandData);
  }
});

test('truncated response header waits for more', () => {
  const sealed = sealResponseHeader(keys, { responseAuth: 1, option: 0, command: 0, commandData: Buffer.alloc(0) });
  for (let n = 0; n < sealed.length; n++) assert.equal(openResponseHeader(keys, sealed.subarray(0, n)), undefined);
});

test('wrong keys, flipped bytes and random input are PROTOCOL errors', () => {
  const sealed = sealResponseHeader(keys, { responseAuth: 1, option: 0, command: 0, commandData: Buffer.alloc(0) });
  const other = responseKeys(randomBytes(16), randomBytes(16));
  assert.throws(() => openResponseHeader(other, sealed), (e) => hasCode(e, 'PROTOCOL'));
  for (let i = 0; i < sealed.length; i++) {
    const t = Buffer.from(sealed);
    t[i] ^= 0x80;
    assert.throws(() => openResponseHeader(keys, t), (e) => hasCode(e, 'PROTOCOL'), `byte ${i}`);
  }
  for (let i = 0; i < 300; i++) {
    try {
      assert.equal(openResponseHeader(keys, randomBytes(i % 60)), undefined);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
  }
});
