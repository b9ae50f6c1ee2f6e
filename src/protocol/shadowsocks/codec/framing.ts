/**
 * The two halves of a Shadowsocks stream codec, kept apart from any socket so they can be
 * tested on Buffers. cipher-duplex.ts runs one of each over a real stream.
 */

/** Turns plaintext writes into wire bytes. */
export interface Encoder {
  /** true until the first encode: a client's request header waits for the first payload */
  readonly holding: boolean;
  /** whether an end() with nothing written must still send the header (a client must: the
   * server learns the destination from it; a server has nothing to say) */
  readonly flushOnEnd: boolean;
  /** Appends the wire bytes for `list` (in order, as one byte string) to `out`. */
  encode(list: readonly Buffer[], out: Buffer[]): void;
}

/** Turns wire bytes into plaintext; throws a ProxyError (PROTOCOL / AUTH) on bad input. */
export interface Decoder {
  /** Appends the plaintext decodable so far to `out`. */
  decode(data: Buffer, out: Buffer[]): void;
  /** At the peer's EOF: throws PROTOCOL when it came inside a chunk (a truncated stream). */
  end(): void;
}

/** Total bytes of a list of buffers. */
export function totalLength(list: readonly Buffer[]): number {
  let n = 0;
  for (const b of list) n += b.length;
  return n;
}

/**
 * Splits `list` after its first `n` bytes: the head views go to `head`, the rest to `tail`
 * (subarrays, no copies).
 */
export function splitList(list: readonly Buffer[], n: number, head: Buffer[], tail: Buffer[]): void {
  for (const b of list) {
    if (n >= b.length) {
      if (b.length > 0) head.push(b);
      n -= b.length;
    } else if (n > 0) {
      head.push(b.subarray(0, n));
      tail.push(b.subarray(n));
      n = 0;
    } else if (b.length > 0) {
      tail.push(b);
    }
  }
}
