import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hasCode } from '../../../core/errors.js';
import { openAeadHeader, sealAeadHeader } from './header.js';
import { userIdBytes, userKeys } from './user.js';

const user = userKeys(userIdBytes('b831381d-6324-4d53-ad4f-8cda48b30811'));
const now = Math.floor(Date.now() / 1000);

test('sealed header opens with the same user, not with another', () => {
  const sealed = sealAeadHeader(user, Buffer.from('Test Header'), now);
  const o = openAeadHeader(user, sealed);
  assert.ok(o && o !== 'mismatch');
  assert.equal(o.header.toString(), 'Test Header');
  assert.equal(o.length, sealed.length);
  assert.equal(o.unixSeconds, now);
  assert.equal(openAeadHeader(userKeys(userIdBytes('other')), sealed), 'mismatch');
});

test('truncated sealed header: more bytes needed, never a wrong result', () => {
  const sealed = sealAeadHeader(user, Buffer.from('Test Header'), now);
  for (let n = 0; n < sealed.length; n++) assert.equal(openAeadHeader(user, sealed.subarray(0, n)), undefined, `at ${n}`);
});

test('any flipped byte is refused (as v2ray-core TestOpenVMessAEADHeader4)', () => {
  const base = sealAeadHeader(user, Buffer.from('Test Header'), now);
  for (let i = 0; i < base.length; i++) {
    const s = Buffer.from(base);
    s[i] ^= 0xff;
    let r: ReturnType<typeof openAeadHeader> | Error;
    try {
      r = openAeadHeader(user, s);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
      continue;
    }
    assert.ok(r === 'mismatch' || (i >= 18 + 16 && r === undefined), `byte ${i}: ${String(r)}`);
  }
});

test('random input never opens', () => {
  for (let i = 0; i < 300; i++) {
    try {
      const r = openAeadHeader(user, randomBytes(1 + (i % 120)));
      assert.ok(r === 'mismatch' || r === undefined);
    } catch (err) {
      assert.ok(hasCode(err, 'PROTOCOL'));
    }
  }
});
