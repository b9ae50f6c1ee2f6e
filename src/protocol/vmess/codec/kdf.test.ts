import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kdf, kdf16 } from './kdf.js';

test('KDF matches v2ray-core proxy/vmess/aead TestKDFValue', () => {
  const got = kdf(Buffer.from('Demo Key for KDF Value Test'), 'Demo Path for KDF Value Test', 'Demo Path for KDF Value Test2', 'Demo Path for KDF Value Test3');
  assert.equal(got.toString('hex'), '53e9d7e1bd7bd25022b71ead07d8a596efc8a845c7888652fd684b4903dc8892');
});

test('KDF16 is the first half; path elements may be bytes; a long key (> block) works', () => {
  const k = Buffer.from('key');
  assert.deepEqual(kdf16(k, 'a', Buffer.from('b')), kdf(k, 'a', 'b').subarray(0, 16));
  assert.notDeepEqual(kdf(k, 'a', 'b'), kdf(k, 'b', 'a'));
  assert.equal(kdf(k, 'x'.repeat(100)).length, 32);
});
