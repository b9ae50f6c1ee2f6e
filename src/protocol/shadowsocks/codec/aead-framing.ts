import { randomBytes } from 'node:crypto';
import { ProxyError } from '../../../core/errors.js';
import { AeadKey } from './aead.js';
import { ByteQueue } from './byte-queue.js';
import { AEAD_MAX_PAYLOAD, ChunkOpener, ChunkSealer } from './chunks.js';
import type { Decoder, Encoder } from './framing.js';
import { aeadSubkey } from './kdf.js';
import type { MethodSpec } from './methods.js';

/**
 * SIP004 (AEAD 2017) sending half: a random salt, then chunks sealed with the HKDF-SHA1
 * subkey. A client passes the request header (the destination address) as `prefix`: it rides
 * in the first chunk together with the first payload.
 */
export class AeadEncoder implements Encoder {
  readonly flushOnEnd: boolean;
  readonly #spec: MethodSpec;
  readonly #master: Buffer;
  #prefix: Buffer | undefined;
  #sealer: ChunkSealer | undefined;

  constructor(spec: MethodSpec, masterKey: Buffer, prefix?: Buffer) {
    this.#spec = spec;
    this.#master = masterKey;
    this.#prefix = prefix;
    this.flushOnEnd = prefix !== undefined;
  }

  get holding(): boolean {
    return this.#sealer === undefined;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (this.#sealer === undefined) {
      const salt = randomBytes(this.#spec.saltSize);
      this.#sealer = new ChunkSealer(new AeadKey(this.#spec.aead!, aeadSubkey(this.#master, salt)), AEAD_MAX_PAYLOAD);
      out.push(salt);
      if (this.#prefix !== undefined) {
        list = [this.#prefix, ...list];
        this.#prefix = undefined;
      }
    }
    this.#sealer.seal(list, out);
  }
}

/**
 * SIP004 receiving half. `onSalt` sees the peer's salt first (a server checks it against its
 * replay filter and throws to refuse).
 */
export class AeadDecoder implements Decoder {
  readonly #spec: MethodSpec;
  readonly #master: Buffer;
  readonly #onSalt: ((salt: Buffer) => void) | undefined;
  readonly #q = new ByteQueue();
  #opener: ChunkOpener | undefined;

  constructor(spec: MethodSpec, masterKey: Buffer, onSalt?: (salt: Buffer) => void) {
    this.#spec = spec;
    this.#master = masterKey;
    this.#onSalt = onSalt;
  }

  decode(data: Buffer, out: Buffer[]): void {
    const q = this.#q;
    q.push(data);
    if (this.#opener === undefined) {
      if (q.length < this.#spec.saltSize) return;
      const salt = Buffer.from(q.take(this.#spec.saltSize));
      this.#onSalt?.(salt);
      this.#opener = new ChunkOpener(new AeadKey(this.#spec.aead!, aeadSubkey(this.#master, salt)), AEAD_MAX_PAYLOAD);
    }
    this.#opener.open(q, out);
  }

  end(): void {
    if (this.#q.length > 0 || this.#opener?.midChunk) {
      throw new ProxyError('PROTOCOL', 'stream ended inside a chunk');
    }
  }
}
