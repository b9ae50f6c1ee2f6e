import { randomBytes } from 'node:crypto';
import type { KeystreamCipher } from '../../../core/cipher.js';
import type { Decoder, Encoder } from './framing.js';
import type { MethodSpec } from './methods.js';
import { streamCipher } from './stream-cipher.js';

/**
 * Legacy stream-cipher sending half: a random IV, then every byte XORed with the key stream.
 * A client's destination header rides in front of the first payload. No integrity at all:
 * these methods exist for old servers only.
 */
export class StreamEncoder implements Encoder {
  readonly flushOnEnd: boolean;
  readonly #spec: MethodSpec;
  readonly #key: Buffer;
  #prefix: Buffer | undefined;
  #cipher: KeystreamCipher | undefined;

  constructor(spec: MethodSpec, key: Buffer, prefix?: Buffer) {
    this.#spec = spec;
    this.#key = key;
    this.#prefix = prefix;
    this.flushOnEnd = prefix !== undefined;
  }

  get holding(): boolean {
    return this.#cipher === undefined;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (this.#cipher === undefined) {
      const iv = randomBytes(this.#spec.saltSize);
      this.#cipher = streamCipher(this.#spec, this.#key, iv, false);
      out.push(iv);
      if (this.#prefix !== undefined) out.push(this.#cipher.update(this.#prefix));
      this.#prefix = undefined;
    }
    for (const b of list) if (b.length > 0) out.push(this.#cipher.update(b));
  }
}

/** Legacy stream-cipher receiving half; `onIv` sees the peer's IV first (replay filter). */
export class StreamDecoder implements Decoder {
  readonly #spec: MethodSpec;
  readonly #key: Buffer;
  readonly #onIv: ((iv: Buffer) => void) | undefined;
  #ivParts: Buffer[] = [];
  #ivHave = 0;
  #cipher: KeystreamCipher | undefined;

  constructor(spec: MethodSpec, key: Buffer, onIv?: (iv: Buffer) => void) {
    this.#spec = spec;
    this.#key = key;
    this.#onIv = onIv;
  }

  decode(data: Buffer, out: Buffer[]): void {
    if (this.#cipher === undefined) {
      const need = this.#spec.saltSize - this.#ivHave;
      this.#ivParts.push(data.subarray(0, need));
      this.#ivHave += Math.min(need, data.length);
      if (this.#ivHave < this.#spec.saltSize) return;
      const iv = Buffer.concat(this.#ivParts);
      this.#ivParts = [];
      this.#onIv?.(iv);
      this.#cipher = streamCipher(this.#spec, this.#key, iv, true);
      data = data.subarray(need);
    }
    if (data.length > 0) out.push(this.#cipher.update(data));
  }

  end(): void {
    // a stream cipher has no chunks to cut short
  }
}

/** `cipher: none`: the destination header, then the payload in the clear. */
export class PlainEncoder implements Encoder {
  readonly flushOnEnd: boolean;
  #prefix: Buffer | undefined;
  #started = false;

  constructor(prefix?: Buffer) {
    this.#prefix = prefix;
    this.flushOnEnd = prefix !== undefined;
  }

  get holding(): boolean {
    return !this.#started;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (!this.#started && this.#prefix !== undefined) out.push(this.#prefix);
    this.#started = true;
    this.#prefix = undefined;
    for (const b of list) if (b.length > 0) out.push(b);
  }
}

/** `cipher: none` receiving half: bytes pass through. */
export class PlainDecoder implements Decoder {
  decode(data: Buffer, out: Buffer[]): void {
    if (data.length > 0) out.push(data);
  }

  end(): void {}
}
