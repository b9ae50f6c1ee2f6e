import { createSecretKey, type KeyObject } from 'node:crypto';
import type { AeadOpener, AeadSealer } from '../../../core/cipher.js';
import { ProxyError } from '../../../core/errors.js';
import { aeadProvider, type AeadProvider } from '../../../runtime/aead.js';
import type { AeadAlgorithm } from './methods.js';
import { xchachaReduce } from './xchacha.js';

/** Every AEAD here appends a 16-byte tag. */
export const TAG_SIZE = 16;

/**
 * Ciphers built from the raw key bytes before the key becomes a KeyObject. Measured on node 20
 * (median CPU per createCipheriv): AES-GCM builds as fast from raw bytes, so it never converts;
 * chacha20-poly1305 saves ~0.7 us per cipher with a KeyObject, which costs ~1.5 us to make.
 */
const keyObjectAfter = (alg: AeadAlgorithm): number => (alg === 'chacha20-poly1305' ? 2 : Infinity);

/**
 * One AEAD key. Node has no reusable AEAD context, so each seal/open builds a cipher object
 * (~2-3 µs): callers seal whole chunks, never pieces. A busy chacha20 key becomes a KeyObject,
 * which node handles faster than raw bytes there. The cipher objects come from the runtime seam
 * (runtime/aead.ts): node:crypto's own where it has the cipher, @noble/ciphers' where not.
 */
export class AeadKey {
  readonly nonceSize: number;
  readonly #alg: AeadAlgorithm;
  readonly #raw: Buffer;
  /** made once the key proves busy (see keyObjectAfter) */
  #key: KeyObject | undefined;
  #uses = 0;
  readonly #keyObjectAfter: number;
  readonly #provider: AeadProvider;

  constructor(alg: AeadAlgorithm, key: Buffer) {
    this.#alg = alg;
    this.#raw = key;
    this.nonceSize = alg === 'xchacha20-poly1305' ? 24 : 12;
    this.#provider = aeadProvider(alg === 'xchacha20-poly1305' ? 'chacha20-poly1305' : alg);
    this.#keyObjectAfter = this.#provider.keyObjects ? keyObjectAfter(alg) : Infinity;
  }

  #cipherKey(): KeyObject | Buffer {
    if (this.#key !== undefined) return this.#key;
    if (++this.#uses <= this.#keyObjectAfter) return this.#raw;
    this.#key = createSecretKey(this.#raw);
    return this.#key;
  }

  /** A cipher for one message; feed it with update(), then final() and getAuthTag(). */
  encryptor(nonce: Buffer): AeadSealer {
    if (this.#alg === 'xchacha20-poly1305') {
      const r = xchachaReduce(this.#raw, nonce);
      return this.#provider.sealer(r.key, r.nonce);
    }
    return this.#provider.sealer(this.#cipherKey(), nonce);
  }

  /** A decipher for one message; set the tag before final(). */
  decryptor(nonce: Buffer): AeadOpener {
    if (this.#alg === 'xchacha20-poly1305') {
      const r = xchachaReduce(this.#raw, nonce);
      return this.#provider.opener(r.key, r.nonce);
    }
    return this.#provider.opener(this.#cipherKey(), nonce);
  }

  /** ciphertext || tag of one whole message. */
  seal(nonce: Buffer, plain: Buffer): Buffer {
    const c = this.encryptor(nonce);
    const head = c.update(plain);
    c.final();
    return Buffer.concat([head, c.getAuthTag()], head.length + TAG_SIZE);
  }

  /** The plaintext of ciphertext || tag; PROTOCOL error when it does not authenticate. */
  open(nonce: Buffer, sealed: Buffer): Buffer {
    if (sealed.length < TAG_SIZE) throw new ProxyError('PROTOCOL', 'sealed message shorter than its tag');
    const d = this.decryptor(nonce);
    const n = sealed.length - TAG_SIZE;
    d.setAuthTag(sealed.subarray(n));
    const out = d.update(sealed.subarray(0, n));
    try {
      d.final();
    } catch {
      throw new ProxyError('PROTOCOL', 'message failed authentication');
    }
    return out;
  }
}

/** Adds one to a little-endian counter nonce in place (SIP004 and SIP022 TCP nonces). */
export function incrementNonce(nonce: Buffer): void {
  for (let i = 0; i < nonce.length; i++) {
    nonce[i] = (nonce[i] + 1) & 0xff;
    if (nonce[i] !== 0) return;
  }
}
