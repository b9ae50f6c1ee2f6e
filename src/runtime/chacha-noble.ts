import { chacha20, hchacha } from '@noble/ciphers/chacha.js';
import type { KeystreamCipher } from '../core/cipher.js';

const BLOCK = 64;
// "expand 32-byte k"
const SIGMA = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);

/** Little-endian 32-bit words of `b` (a copy, so alignment never matters). */
function words(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b[i * 4] | (b[i * 4 + 1] << 8) | (b[i * 4 + 2] << 16) | (b[i * 4 + 3] << 24);
  return out;
}

/** A plain Uint8Array view of the same bytes (no copy). */
export const plain = (b: Uint8Array): Uint8Array => (b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.length));

/**
 * ChaCha20 with node:crypto's 'chacha20' semantics, on @noble/ciphers: a 32-byte key and a
 * 16-byte IV that is the state's words 12..15, i.e. a 32-bit little-endian block counter then the
 * 12-byte RFC 8439 nonce. Pieces of any size continue the one keystream (the unused tail of the
 * last block is kept). noble's counter stops short of 2^32 blocks (256 GiB per stream): past that
 * update() throws rather than reuse keystream.
 */
export class NobleChaCha20 implements KeystreamCipher {
  readonly #key: Uint8Array;
  readonly #nonce: Uint8Array;
  #counter: number;
  /** keystream left over from the last partial block */
  readonly #rest = new Uint8Array(BLOCK);
  #restAt = BLOCK;

  constructor(key: Uint8Array, iv16: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`chacha20 key must be 32 bytes, got ${key.length}`);
    if (iv16.length !== 16) throw new RangeError(`chacha20 IV must be 16 bytes, got ${iv16.length}`);
    this.#key = Uint8Array.from(key);
    this.#nonce = Uint8Array.from(iv16.subarray(4));
    this.#counter = (iv16[0] | (iv16[1] << 8) | (iv16[2] << 16) | (iv16[3] << 24)) >>> 0;
  }

  update(data: Buffer): Buffer {
    return this.xor(data).buffer;
  }

  /**
   * The XOR of `data` as a plain Uint8Array (`u8`, for noble: JavaScriptCore runs its loops
   * over a plain Uint8Array ~2x faster than over a Buffer) and a Buffer over the same bytes.
   */
  xor(input: Uint8Array): { u8: Uint8Array; buffer: Buffer } {
    const n = input.length;
    const data = plain(input);
    const out = new Uint8Array(n);
    let at = 0;
    // first what the previous piece left of its last block
    while (at < n && this.#restAt < BLOCK) out[at] = data[at++] ^ this.#rest[this.#restAt++];
    const whole = (n - at) & ~(BLOCK - 1);
    if (whole > 0) {
      chacha20(this.#key, this.#nonce, data.subarray(at, at + whole), out.subarray(at, at + whole), this.#counter);
      this.#counter += whole / BLOCK;
      at += whole;
    }
    if (at < n) {
      this.#rest.fill(0);
      chacha20(this.#key, this.#nonce, this.#rest, this.#rest, this.#counter++);
      this.#restAt = 0;
      while (at < n) out[at] = data[at++] ^ this.#rest[this.#restAt++];
    }
    return { u8: out, buffer: Buffer.from(out.buffer, out.byteOffset, n) };
  }
}

/** HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the XChaCha20 subkey for a key and a 16-byte nonce. */
export function nobleHChaCha20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const out = new Uint32Array(8);
  hchacha(SIGMA, words(key), words(nonce16), out);
  const b = Buffer.allocUnsafe(32);
  for (let i = 0; i < 8; i++) b.writeUInt32LE(out[i], i * 4);
  return b;
}
