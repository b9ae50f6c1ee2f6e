import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { chacha20 } from '@noble/ciphers/chacha.js';
import { timingSafeEqual } from 'node:crypto';
import type { AeadOpener, AeadSealer } from '../core/cipher.js';
import { NobleChaCha20, plain } from './chacha-noble.js';

const TAG = 16;
const ZEROS = new Uint8Array(32);
const EMPTY = Buffer.alloc(0);

type Mac = ReturnType<typeof poly1305.create>;

/**
 * The RFC 8439 §2.8 ChaCha20-Poly1305 construction as a stream of pieces, shaped like
 * node:crypto's cipher objects (setAAD, update, final, tags): the one-time Poly1305 key is
 * keystream block 0, the payload is XORed from block 1, and the MAC covers
 * AAD ‖ pad16 ‖ ciphertext ‖ pad16 ‖ len(AAD) ‖ len(ciphertext), both lengths 64-bit LE.
 */
class ChaChaPoly {
  protected readonly stream: NobleChaCha20;
  protected readonly mac: Mac;
  #aad = 0;
  protected text = 0;
  #done = false;

  constructor(key: Uint8Array, nonce: Uint8Array) {
    if (nonce.length !== 12) throw new RangeError(`chacha20-poly1305 nonce must be 12 bytes, got ${nonce.length}`);
    const iv = new Uint8Array(16);
    iv.set(nonce, 4);
    const otk = chacha20(key, nonce, ZEROS, new Uint8Array(32), 0);
    this.mac = poly1305.create(otk);
    otk.fill(0);
    iv[0] = 1; // the payload starts at block 1
    this.stream = new NobleChaCha20(key, iv);
  }

  setAAD(aad: Buffer): this {
    if (this.text > 0 || this.#aad > 0) throw new Error('setAAD must come once, before any data');
    this.mac.update(plain(aad));
    this.#pad(aad.length);
    this.#aad = aad.length;
    return this;
  }

  #pad(n: number): void {
    const r = n % 16;
    if (r !== 0) this.mac.update(ZEROS.subarray(0, 16 - r));
  }

  protected tag(): Buffer {
    if (this.#done) throw new Error('final() was already called');
    this.#done = true;
    this.#pad(this.text);
    const lengths = Buffer.alloc(16);
    lengths.writeUInt32LE(this.#aad % 2 ** 32, 0);
    lengths.writeUInt32LE(Math.floor(this.#aad / 2 ** 32), 4);
    lengths.writeUInt32LE(this.text % 2 ** 32, 8);
    lengths.writeUInt32LE(Math.floor(this.text / 2 ** 32), 12);
    this.mac.update(lengths);
    const t = this.mac.digest();
    return Buffer.from(t.buffer, t.byteOffset, t.byteLength);
  }
}

/** Seals one message: ciphertext from update(), the tag after final(). */
export class NobleChaChaPolySealer extends ChaChaPoly implements AeadSealer {
  #tag: Buffer | undefined;

  update(data: Buffer): Buffer {
    const ct = this.stream.xor(data);
    this.mac.update(ct.u8);
    this.text += data.length;
    return ct.buffer;
  }

  final(): Buffer {
    this.#tag = this.tag();
    return EMPTY;
  }

  getAuthTag(): Buffer {
    if (this.#tag === undefined) throw new Error('getAuthTag() before final()');
    return this.#tag;
  }
}

/** Opens one message: plaintext from update() (not yet trusted), final() throws on a bad tag. */
export class NobleChaChaPolyOpener extends ChaChaPoly implements AeadOpener {
  #expected: Buffer | undefined;

  setAuthTag(tag: Buffer): this {
    if (tag.length !== TAG) throw new RangeError(`chacha20-poly1305 tag must be ${TAG} bytes, got ${tag.length}`);
    this.#expected = Buffer.from(tag);
    return this;
  }

  update(data: Buffer): Buffer {
    const ct = plain(data);
    this.mac.update(ct);
    this.text += ct.length;
    return this.stream.xor(ct).buffer;
  }

  final(): Buffer {
    const got = this.tag();
    // node's wording for the same failure
    if (this.#expected === undefined || !timingSafeEqual(got, this.#expected)) throw new Error('Unsupported state or unable to authenticate data');
    return EMPTY;
  }
}
