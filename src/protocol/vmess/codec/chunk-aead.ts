import { createCipheriv, createDecipheriv, createHash, type CipherGCMTypes } from 'node:crypto';

/** The body ciphers of VMess. */
export type BodyCipher = 'aes-128-gcm' | 'chacha20-poly1305';

/** VMess's chacha20-poly1305 key from a 16-byte key: MD5(k) ‖ MD5(MD5(k)). */
export function chachaKey(key16: Buffer): Buffer {
  const a = createHash('md5').update(key16).digest();
  return Buffer.concat([a, createHash('md5').update(a).digest()]);
}

const TAG = 16;

/**
 * One direction's AEAD over chunks: nonce = counter (2, BE) ‖ IV[2..12], the counter counting
 * chunks from 0 and wrapping at 2^16 as v2ray's does. The nonce buffer is reused (Node copies it
 * into each cipher).
 */
export class ChunkAead {
  readonly overhead = TAG;
  readonly #algo: CipherGCMTypes | 'chacha20-poly1305';
  readonly #key: Buffer;
  readonly #nonce: Buffer;
  #count = 0;

  constructor(cipher: BodyCipher, key16: Buffer, iv: Buffer) {
    this.#algo = cipher;
    this.#key = cipher === 'aes-128-gcm' ? Buffer.from(key16.subarray(0, 16)) : chachaKey(key16.subarray(0, 16));
    this.#nonce = Buffer.from(iv.subarray(0, 12));
  }

  #next(): Buffer {
    this.#nonce.writeUInt16BE(this.#count, 0);
    this.#count = (this.#count + 1) & 0xffff;
    return this.#nonce;
  }

  /** Seals `plain` into `out` at `at` (ciphertext ‖ tag); returns the offset after it. */
  sealInto(plain: Buffer, out: Buffer, at: number): number {
    const c = createCipheriv(this.#algo as 'aes-128-gcm', this.#key, this.#next(), { authTagLength: TAG });
    const n = plain.length === 0 ? 0 : c.update(plain).copy(out, at);
    c.final();
    c.getAuthTag().copy(out, at + n);
    return at + n + TAG;
  }

  /** Opens `sealed` (ciphertext ‖ tag); undefined when it does not authenticate. */
  open(sealed: Buffer): Buffer | undefined {
    const d = createDecipheriv(this.#algo as 'aes-128-gcm', this.#key, this.#next(), { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const plain = d.update(sealed.subarray(0, sealed.length - TAG));
    try {
      d.final();
    } catch {
      return undefined;
    }
    return plain;
  }
}
