import { shake128 } from '@noble/hashes/sha3.js';

const RATE = 168; // SHAKE128 squeezes 168 bytes per permutation

/**
 * The SHAKE128 output stream VMess draws chunk-length masks and padding lengths from, seeded with
 * a body IV. Squeezed a block at a time into one reused buffer: no allocation per draw.
 */
export class ShakeStream {
  readonly #xof: ReturnType<typeof shake128.create>;
  readonly #buf = new Uint8Array(RATE);
  #pos = RATE;

  constructor(seed: Buffer) {
    this.#xof = shake128.create().update(seed);
  }

  /** The next two output bytes as a big-endian 16-bit number. */
  next16(): number {
    if (this.#pos + 2 > RATE) {
      // RATE is even, so a draw never straddles a refill
      this.#xof.xofInto(this.#buf);
      this.#pos = 0;
    }
    const v = (this.#buf[this.#pos] << 8) | this.#buf[this.#pos + 1];
    this.#pos += 2;
    return v;
  }
}
