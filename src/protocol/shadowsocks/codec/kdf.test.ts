import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { test } from 'node:test';
import { aeadSubkey, evpBytesToKey, identitySubkey2022, parsePsks, pskHash2022, sessionSubkey2022 } from './kdf.js';

test('EVP_BytesToKey matches OpenSSL', () => {
  // from `openssl enc -aes-256-cfb -md md5 -nosalt -k foobar -P` (OpenSSL 3.0): key=…, iv=…;
  // the 16-, 24- and 32-byte keys are prefixes of the same MD5 chain
  const chain = '3858f62230ac3c915f300c664312c63f568378529614d22ddb49237d2f60bfdf';
  assert.equal(evpBytesToKey('foobar', 16).toString('hex'), chain.slice(0, 32));
  assert.equal(evpBytesToKey('foobar', 24).toString('hex'), chain.slice(0, 48));
  assert.equal(evpBytesToKey('foobar', 32).toString('hex'), chain);
});

test('HKDF-SHA1 is RFC 5869 (test case 4), and the SIP004 subkey is HKDF-SHA1 with info ss-subkey', () => {
  const okm = Buffer.from(hkdfSync('sha1', Buffer.alloc(11, 0x0b), Buffer.from('000102030405060708090a0b0c', 'hex'), Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'), 42));
  assert.equal(okm.toString('hex'), '085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896');
  const key = evpBytesToKey('foobar', 32);
  const salt = Buffer.alloc(32, 7);
  const want = Buffer.from(hkdfSync('sha1', key, salt, Buffer.from('ss-subkey'), 32));
  assert.deepEqual(aeadSubkey(key, salt), want);
  for (const n of [16, 24]) {
    const k = key.subarray(0, n);
    const s = salt.subarray(0, n);
    assert.deepEqual(aeadSubkey(k, s), Buffer.from(hkdfSync('sha1', k, s, Buffer.from('ss-subkey'), n)), `${n}-byte key`);
  }
});

test('SS-2022 session and identity subkeys match published BLAKE3 vectors', () => {
  // vectors of urban-spork's AEAD2022TestCase (Zmax0/urban-spork, published test of an
  // independent SIP022 implementation): derive_key over key || salt
  const key = Buffer.from('Lc3tTx0BY6ZJ/fCwOx3JvF0I/anhwJBO5p2+FA5Vce4=', 'base64');
  const salt = Buffer.from('3oFO0VyLyGI4nFN0M9P+62vPND/L6v8IingaPJWTbJA=', 'base64');
  assert.equal(sessionSubkey2022(key, salt).toString('base64'), 'EdNE+4U8dVnHT0+poAFDK2bdlwfrHT61sUNr9WYPh+E=');
  // the identity context, same source: derive_key("shadowsocks 2022 identity subkey", text);
  // our function takes the material as key || salt, so split the text after 32 bytes
  const text = Buffer.from('Personal search-enabled assistant for programmers');
  const id = identitySubkey2022(text.subarray(0, 32), text.subarray(32));
  assert.equal(id.toString('base64'), 'nb91ZIjdNzFcPmGRS3Lg7m+muVqat549+RSDluyVN4c=');
  assert.equal(pskHash2022(key).length, 16);
});

test('2022 passwords: base64 keys of the exact size, iPSK:uPSK lists', () => {
  const k16 = Buffer.alloc(16, 1).toString('base64');
  const k32 = Buffer.alloc(32, 2).toString('base64');
  assert.equal((parsePsks(k16, 16) as Buffer[]).length, 1);
  assert.equal((parsePsks(`${k32}:${k32}`, 32) as Buffer[]).length, 2);
  assert.match(parsePsks(k16, 32) as string, /16 bytes, the cipher needs 32/);
  assert.match(parsePsks('not base64!', 16) as string, /not base64/);
  assert.match(parsePsks('', 16) as string, /not base64/);
  assert.match(parsePsks(`${k16}:`, 16) as string, /key 2/);
});
