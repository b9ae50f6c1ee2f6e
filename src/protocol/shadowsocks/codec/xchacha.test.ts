import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AeadKey } from './aead.js';
import { hchacha20 } from './xchacha.js';

const seq = (first: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (first + i) & 0xff));

test('HChaCha20 from node chacha20 matches draft-irtf-cfrg-xchacha-03 §2.2.1', () => {
  const out = hchacha20(seq(0, 32), Buffer.from('000000090000004a0000000031415927', 'hex'));
  assert.equal(out.toString('hex'), '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
});

test('XChaCha20-Poly1305 matches draft-irtf-cfrg-xchacha-03 §A.3.1', () => {
  const plain = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const key = new AeadKey('xchacha20-poly1305', seq(0x80, 32));
  const nonce = seq(0x40, 24);
  const c = key.encryptor(nonce);
  c.setAAD(Buffer.from('50515253c0c1c2c3c4c5c6c7', 'hex'));
  const ct = c.update(plain);
  c.final();
  assert.equal(ct.subarray(0, 32).toString('hex'), 'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb');
  assert.equal(c.getAuthTag().toString('hex'), 'c0875924c1c7987947deafd8780acf49');
  // and back, without AAD through seal/open
  const sealed = key.seal(nonce, plain);
  assert.deepEqual(key.open(nonce, sealed), plain);
  sealed[3] ^= 1;
  assert.throws(() => key.open(nonce, sealed), /failed authentication/);
});
