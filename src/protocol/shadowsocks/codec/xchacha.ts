import { createCipheriv } from 'node:crypto';

// "expand 32-byte k": ChaCha's four constant words, little-endian.
const SIGMA = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);
const ZEROS = Buffer.alloc(64);

/**
 * HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the XChaCha20 subkey for `key` and the first
 * 16 bytes of a 24-byte nonce. node:crypto has no HChaCha20, but its 'chacha20' (16-byte IV =
 * the state's words 12..15) gives one ChaCha20 block = rounds(S) + S. S is known (constants,
 * key, IV), so rounds(S) = block − S word by word, and HChaCha20 is words 0..3 and 12..15 of
 * rounds(S).
 */
export function hchacha20(key: Buffer, nonce16: Buffer): Buffer {
  const block = createCipheriv('chacha20', key, nonce16).update(ZEROS);
  const out = Buffer.allocUnsafe(32);
  for (let i = 0; i < 4; i++) {
    out.writeUInt32LE((block.readUInt32LE(i * 4) - SIGMA[i]) >>> 0, i * 4);
    out.writeUInt32LE((block.readUInt32LE(48 + i * 4) - nonce16.readUInt32LE(i * 4)) >>> 0, 16 + i * 4);
  }
  return out;
}

/**
 * The ChaCha20-Poly1305 key and 12-byte nonce that XChaCha20-Poly1305 with `key` and a
 * 24-byte `nonce` reduces to: HChaCha20 subkey, and 4 zero bytes + the nonce's last 8.
 */
export function xchachaReduce(key: Buffer, nonce: Buffer): { key: Buffer; nonce: Buffer } {
  const n = Buffer.alloc(12);
  nonce.copy(n, 4, 16, 24);
  return { key: hchacha20(key, nonce.subarray(0, 16)), nonce: n };
}

/**
 * The node 'chacha20' IV for the XChaCha20 *stream* cipher (Shadowsocks' legacy `xchacha20`):
 * counter 0, then 4 zero bytes and the nonce's last 8 (same reduction as above).
 */
export function xchachaStreamIv(nonce: Buffer): Buffer {
  const iv = Buffer.alloc(16);
  nonce.copy(iv, 8, 16, 24);
  return iv;
}
