import { chacha20 as nobleChaCha20Once, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { AeadOpener, AeadSealer, KeystreamCipher } from '../core/cipher.js';
import { NobleChaCha20, nobleHChaCha20 } from './chacha-noble.js';
import { NobleChaChaPolyOpener, NobleChaChaPolySealer } from './chacha-poly-noble.js';
import { aeadProvider, chacha20Stream, hchacha20, keystreamAvailable } from './aead.js';
import { nodeHasCipher } from './node-has.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const seq = (first: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (first + i) & 0xff));

// RFC 8439 §2.8.2
const RFC_KEY = seq(0x80, 32);
const RFC_NONCE = hex('07000000 4041424344454647');
const RFC_AAD = hex('50515253c0c1c2c3c4c5c6c7');
const RFC_PLAIN = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const RFC_CT = hex(`d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b
  1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116`);
const RFC_TAG = hex('1ae10b594f09e26a7e902ecbd0600691');

/** `data` cut at random points (1..max bytes a piece, sometimes empty pieces). */
function pieces(data: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, Math.floor(Math.random() * max));
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

function sealAll(s: AeadSealer, parts: Buffer[], aad?: Buffer): { ct: Buffer; tag: Buffer } {
  if (aad) s.setAAD(aad);
  const ct = Buffer.concat(parts.map((p) => s.update(p)));
  s.final();
  return { ct, tag: s.getAuthTag() };
}

function openAll(o: AeadOpener, parts: Buffer[], tag: Buffer, aad?: Buffer): Buffer {
  if (aad) o.setAAD(aad);
  o.setAuthTag(tag);
  const plain = Buffer.concat(parts.map((p) => o.update(p)));
  o.final();
  return plain;
}

const xorAll = (k: KeystreamCipher, parts: Buffer[]): Buffer => Buffer.concat(parts.map((p) => k.update(p)));

test('noble ChaCha20-Poly1305, fed in pieces, gives the RFC 8439 §2.8.2 vector and opens it', () => {
  for (let round = 0; round < 20; round++) {
    const { ct, tag } = sealAll(new NobleChaChaPolySealer(RFC_KEY, RFC_NONCE), pieces(RFC_PLAIN, 70), RFC_AAD);
    assert.deepEqual(ct, RFC_CT);
    assert.deepEqual(tag, RFC_TAG);
    assert.deepEqual(openAll(new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE), pieces(RFC_CT, 70), RFC_TAG, RFC_AAD), RFC_PLAIN);
  }
});

test('noble ChaCha20-Poly1305 opener: a flipped bit anywhere, a wrong AAD or no tag fails final()', () => {
  const bad = Buffer.from(RFC_CT);
  bad[40] ^= 0x10;
  assert.throws(() => openAll(new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE), [bad], RFC_TAG, RFC_AAD), /unable to authenticate/);
  const badTag = Buffer.from(RFC_TAG);
  badTag[15] ^= 1;
  assert.throws(() => openAll(new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE), [RFC_CT], badTag, RFC_AAD), /unable to authenticate/);
  assert.throws(() => openAll(new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE), [RFC_CT], RFC_TAG), /unable to authenticate/);
  const o = new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE);
  o.update(RFC_CT);
  assert.throws(() => o.final(), /unable to authenticate/);
  assert.throws(() => new NobleChaChaPolyOpener(RFC_KEY, RFC_NONCE).setAuthTag(Buffer.alloc(8)), /16 bytes/);
  assert.throws(() => new NobleChaChaPolySealer(RFC_KEY, Buffer.alloc(8)), /12 bytes/);
});

test('noble ChaCha20-Poly1305 in pieces equals noble one-shot at every size around block edges', () => {
  for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 1000, 2048, 16383, 0xffff]) {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const plain = randomBytes(n);
    const once = Buffer.from(chacha20poly1305(key, nonce).encrypt(plain));
    const { ct, tag } = sealAll(new NobleChaChaPolySealer(key, nonce), pieces(plain, 300));
    assert.deepEqual(Buffer.concat([ct, tag]), once, `size ${n}`);
    assert.deepEqual(openAll(new NobleChaChaPolyOpener(key, nonce), pieces(ct, 300), tag), plain);
  }
});

test("noble ChaCha20 keeps node's IV layout (counter, nonce) and one keystream across pieces", () => {
  // RFC 8439 §2.4.2: counter 1, nonce 000000000000004a00000000
  const key = seq(0, 32);
  const iv = hex('01000000 000000000000004a00000000');
  const plain = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const want = hex(`6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b357
    1639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d`);
  for (let round = 0; round < 20; round++) assert.deepEqual(xorAll(new NobleChaCha20(key, iv), pieces(plain, 80)), want);
  // a large counter start, sizes across blocks, against noble's one-shot
  const k2 = randomBytes(32);
  const iv2 = randomBytes(16);
  iv2.writeUInt32LE(0x10000, 0);
  const data = randomBytes(5000);
  assert.deepEqual(xorAll(new NobleChaCha20(k2, iv2), pieces(data, 200)), Buffer.from(nobleChaCha20Once(k2, iv2.subarray(4), data, undefined, 0x10000)));
});

test('noble HChaCha20 gives the draft-irtf-cfrg-xchacha-03 §2.2.1 vector', () => {
  const out = nobleHChaCha20(seq(0, 32), hex('000000090000004a0000000031415927'));
  assert.equal(out.toString('hex'), '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  assert.deepEqual(hchacha20(seq(0, 32), hex('000000090000004a0000000031415927')), out);
});

test('where node:crypto has the ChaCha family, the seam hands out its objects, and noble agrees with them', { skip: !nodeHasCipher('chacha20-poly1305', 32, 12) }, () => {
  const p = aeadProvider('chacha20-poly1305');
  assert.equal(p.source, 'node:crypto');
  assert.equal(p.keyObjects, true);
  for (const n of [0, 1, 64, 100, 2048, 16383]) {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(n % 7);
    const plain = randomBytes(n);
    const viaNode = sealAll(p.sealer(key, nonce), [plain], aad);
    const viaNoble = sealAll(new NobleChaChaPolySealer(key, nonce), pieces(plain, 500), aad);
    assert.deepEqual(viaNoble, viaNode, `size ${n}`);
    assert.deepEqual(openAll(new NobleChaChaPolyOpener(key, nonce), [viaNode.ct], viaNode.tag, aad), plain);
    assert.deepEqual(openAll(p.opener(key, nonce), [viaNoble.ct], viaNoble.tag, aad), plain);
  }
  const key = randomBytes(32);
  const iv = randomBytes(16);
  iv.writeUInt32LE(7, 0);
  const data = randomBytes(3000);
  assert.deepEqual(xorAll(new NobleChaCha20(key, iv), pieces(data, 150)), createCipheriv('chacha20', key, iv).update(data));
  assert.deepEqual(xorAll(chacha20Stream(key, iv), [data]), createCipheriv('chacha20', key, iv).update(data));
});

test("where node:crypto lacks them (Bun: oven-sh/bun#8072), the seam answers with noble's", { skip: nodeHasCipher('chacha20-poly1305', 32, 12) }, () => {
  const p = aeadProvider('chacha20-poly1305');
  assert.equal(p.source, '@noble/ciphers');
  assert.equal(p.keyObjects, false);
  assert.throws(() => createCipheriv('chacha20-poly1305', RFC_KEY, RFC_NONCE, { authTagLength: 16 }));
  assert.deepEqual(sealAll(p.sealer(RFC_KEY, RFC_NONCE), [RFC_PLAIN], RFC_AAD), { ct: RFC_CT, tag: RFC_TAG });
  assert.ok(chacha20Stream(seq(0, 32), Buffer.alloc(16)) instanceof NobleChaCha20);
});

test('every AEAD and chacha20 is available; AES-GCM always from node:crypto', () => {
  for (const name of ['aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm'] as const) assert.equal(aeadProvider(name).source, 'node:crypto');
  assert.equal(keystreamAvailable('chacha20'), true);
  assert.equal(keystreamAvailable('no-such-cipher'), false);
});
