/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, resumable from saved block-aligned prefixes. It
 * exists for VMess's nested HMAC KDF, which hashes dozens of tiny messages behind fixed 64-byte
 * pad blocks per connection: one JS compression from a saved midstate costs far less than a
 * native hash object per message. Not for bulk data (node:crypto is faster there).
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

/** The message schedule, shared: compression is synchronous and never re-entered. */
const W = new Uint32Array(64);

/** One compression of the 64-byte block at `b[off..]` into `h`. */
function compress(h: Uint32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) W[i] = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15];
    const y = W[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0;
  h[1] = (h[1] + bb) | 0;
  h[2] = (h[2] + c) | 0;
  h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0;
  h[5] = (h[5] + f) | 0;
  h[6] = (h[6] + g) | 0;
  h[7] = (h[7] + hh) | 0;
}

/** A SHA-256 state after whole 64-byte blocks: a saved prefix to resume from. Immutable. */
export interface Midstate {
  readonly h: Uint32Array;
  /** bytes absorbed (a multiple of 64) */
  readonly absorbed: number;
}

/** The state before any input. */
export const EMPTY_MIDSTATE: Midstate = { h: IV, absorbed: 0 };

/** The state after `mid` then the 64 bytes at `block[off..]`; `mid` is left as it was. */
export function absorbBlock(mid: Midstate, block: Uint8Array, off = 0): Midstate {
  const h = mid.h.slice();
  compress(h, block, off);
  return { h, absorbed: mid.absorbed + 64 };
}

const H = new Uint32Array(8);
const LAST = new Uint8Array(64);

/**
 * SHA-256 of (the prefix saved in `mid`) ‖ `msg`, written to `out[0..32)`. Allocates nothing:
 * a short message costs one compression. `out` may not alias `msg`.
 */
export function finishInto(mid: Midstate, msg: Uint8Array, out: Uint8Array): void {
  H.set(mid.h);
  const n = msg.length;
  let i = 0;
  for (; i + 64 <= n; i += 64) compress(H, msg, i);
  const rest = n - i;
  LAST.set(rest === n ? msg : msg.subarray(i), 0);
  LAST[rest] = 0x80;
  let fill = rest + 1;
  if (fill > 56) {
    LAST.fill(0, fill);
    compress(H, LAST, 0);
    fill = 0;
  }
  LAST.fill(0, fill, 56);
  const bits = (mid.absorbed + n) * 8;
  const hi = Math.floor(bits / 0x100000000);
  LAST[56] = hi >>> 24;
  LAST[57] = hi >>> 16;
  LAST[58] = hi >>> 8;
  LAST[59] = hi;
  LAST[60] = bits >>> 24;
  LAST[61] = bits >>> 16;
  LAST[62] = bits >>> 8;
  LAST[63] = bits;
  compress(H, LAST, 0);
  for (let k = 0, o = 0; k < 8; k++, o += 4) {
    const w = H[k];
    out[o] = w >>> 24;
    out[o + 1] = w >>> 16;
    out[o + 2] = w >>> 8;
    out[o + 3] = w;
  }
}
