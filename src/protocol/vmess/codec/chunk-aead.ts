import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { aeadProvider, type AeadProvider } from '../../../runtime/aead.js';

/** The body ciphers of VMess. */
export type BodyCipher = 'aes-128-gcm' | 'chacha20-poly1305';

function ownCopy(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

/** VMess's chacha20-poly1305 key from a 16-byte key: MD5(k) ‖ MD5(MD5(k)). */
export function chachaKey(key16: Buffer): Buffer {
  const a = createHash('md5').update(key16).digest();
  const out = Buffer.allocUnsafeSlow(32);
  a.copy(out, 0);
  createHash('md5').update(a).digest().copy(out, 16);
  return out;
}

const TAG = 16;
/**
 * Chunks sealed or opened with raw key bytes before the key becomes a KeyObject: never for
 * AES-GCM (node builds it as fast from raw bytes); after 2 for chacha20-poly1305, where a
 * KeyObject saves ~0.7 us per cipher and costs ~1.5 us to make (node 20, median CPU).
 */
const keyObjectAfter = (cipher: BodyCipher): number => (cipher === 'chacha20-poly1305' ? 2 : Infinity);

/**
 * One direction's AEAD over chunks: nonce = counter (2, BE) ‖ IV[2..12], the counter counting
 * chunks from 0 and wrapping at 2^16 as v2ray's does. The nonce buffer is reused (every cipher
 * copies it). The ciphers come from the runtime seam (runtime/aead.ts).
 */
export class ChunkAead {
  readonly overhead = TAG;
  readonly #provider: AeadProvider;
  readonly #raw: Buffer;
  /** made once the stream proves busy (see keyObjectAfter) */
  #key: KeyObject | undefined;
  readonly #keyObjectAfter: number;
  #uses = 0;
  readonly #nonce: Buffer;
  #count = 0;

  constructor(cipher: BodyCipher, key16: Buffer, iv: Buffer) {
    this.#provider = aeadProvider(cipher);
    // own copies (not pool slices, which would pin a shared slab while the stream lives)
    this.#raw = cipher === 'aes-128-gcm' ? ownCopy(key16.subarray(0, 16)) : chachaKey(key16.subarray(0, 16));
    this.#nonce = ownCopy(iv.subarray(0, 12));
    this.#keyObjectAfter = this.#provider.keyObjects ? keyObjectAfter(cipher) : Infinity;
  }

  #keyForNext(): KeyObject | Buffer {
    if (this.#key !== undefined) return this.#key;
    if (++this.#uses <= this.#keyObjectAfter) return this.#raw;
    this.#key = createSecretKey(this.#raw);
    return this.#key;
  }

  #next(): Buffer {
    this.#nonce.writeUInt16BE(this.#count, 0);
    this.#count = (this.#count + 1) & 0xffff;
    return this.#nonce;
  }

  /** Seals `plain` into `out` at `at` (ciphertext ‖ tag); returns the offset after it. */
  sealInto(plain: Buffer, out: Buffer, at: number): number {
    const c = this.#provider.sealer(this.#keyForNext(), this.#next());
    const n = plain.length === 0 ? 0 : c.update(plain).copy(out, at);
    c.final();
    c.getAuthTag().copy(out, at + n);
    return at + n + TAG;
  }

  /** Opens `sealed` (ciphertext ‖ tag); undefined when it does not authenticate. */
  open(sealed: Buffer): Buffer | undefined {
    const d = this.#provider.opener(this.#keyForNext(), this.#next());
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
