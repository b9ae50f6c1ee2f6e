import assert from 'node:assert/strict';
import { createDecipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createAuthId, crc32, openAuthId } from './auth-id.js';
import { kdf16 } from './kdf.js';

// the key v2ray-core's authid_test.go derives
const key = kdf16(Buffer.from('Demo Key for Auth ID Test'), 'Demo Path for Auth ID Test');

test('CRC-32 (IEEE) of the standard check string', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('auth ID round trip: time and random come back, another key does not match', () => {
  const now = Math.floor(Date.now() / 1000);
  const rand = Buffer.from([1, 2, 3, 4]);
  const id = createAuthId(key, now, rand);
  assert.equal(id.length, 16);
  const o = openAuthId(key, id);
  assert.equal(o?.unixSeconds, now);
  assert.deepEqual(o?.rand, rand);
  const other = kdf16(Buffer.from('Demo Key for Auth ID Test2'), 'Demo Path for Auth ID Test');
  assert.equal(openAuthId(other, id), undefined);
});

test('auth IDs differ per call (random part) and tampering breaks the CRC', () => {
  const a = createAuthId(key, 1000);
  assert.notDeepEqual(a, createAuthId(key, 1000));
  for (let i = 0; i < 16; i++) {
    const t = Buffer.from(a);
    t[i] ^= 0x40;
    assert.equal(openAuthId(key, t), undefined, `byte ${i}`);
  }
  assert.equal(openAuthId(key, a.subarray(0, 15)), undefined);
  let matched = 0;
  for (let i = 0; i < 200; i++) if (openAuthId(key, randomBytes(16))) matched++;
  assert.ok(matched <= 1);
});

test('auth IDs from the reused per-key encryptor equal a fresh AES-128-ECB of each block', () => {
  for (let i = 0; i < 50; i++) {
    const rand = randomBytes(4);
    const id = createAuthId(key, 1_700_000_000 + i, rand);
    const fresh = createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(id);
    assert.equal(Number(fresh.readBigUInt64BE(0)), 1_700_000_000 + i);
    assert.deepEqual(fresh.subarray(8, 12), rand);
    assert.equal(fresh.readUInt32BE(12), crc32(fresh, 12));
  }
});
