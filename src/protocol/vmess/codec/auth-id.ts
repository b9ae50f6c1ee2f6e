import { createCipheriv, createDecipheriv, randomFillSync, type Cipher } from 'node:crypto';

// CRC-32 (IEEE), table-driven; zlib.crc32 only exists from Node 20.15.
const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `b[0..end)`. */
export function crc32(b: Buffer, end = b.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The 16-byte auth ID that opens a VMess AEAD request: AES-128-ECB under the user's auth ID key
 * of `time (8, BE seconds) ‖ random (4) ‖ CRC32 of those 12 (4)`. `rand` is for tests.
 */
export function createAuthId(authIdKey: Buffer, unixSeconds: number, rand?: Buffer): Buffer {
  const plain = Buffer.allocUnsafe(16);
  plain.writeBigUInt64BE(BigInt(Math.floor(unixSeconds)), 0);
  if (rand) rand.copy(plain, 8, 0, 4);
  else randomFillSync(plain, 8, 4);
  plain.writeUInt32BE(crc32(plain, 12), 12);
  return ecbFor(authIdKey).update(plain);
}

/**
 * One AES-128-ECB encryptor per user key, reused: ECB enciphers each 16-byte block on its own
 * (no chaining, no padding here), so `update` of one block is exactly that block's cipher text,
 * and a native cipher object per connection is saved.
 */
const ecbByKey = new WeakMap<Buffer, Cipher>();

function ecbFor(key: Buffer): Cipher {
  let c = ecbByKey.get(key);
  if (c === undefined) {
    c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    ecbByKey.set(key, c);
  }
  return c;
}

/** What a server learns from an auth ID: its timestamp, if the checksum holds. */
export interface OpenedAuthId {
  readonly unixSeconds: number;
  readonly rand: Buffer;
}

/**
 * Decrypts an auth ID with a candidate user's key; undefined when the CRC does not match (not
 * this user, or garbage). Replay and clock-skew checks are the server's job.
 */
export function openAuthId(authIdKey: Buffer, authId: Buffer): OpenedAuthId | undefined {
  if (authId.length < 16) return undefined;
  const d = createDecipheriv('aes-128-ecb', authIdKey, null).setAutoPadding(false);
  const plain = d.update(authId.subarray(0, 16));
  if (crc32(plain, 12) !== plain.readUInt32BE(12)) return undefined;
  return { unixSeconds: Number(plain.readBigInt64BE(0)), rand: plain.subarray(8, 12) };
}
