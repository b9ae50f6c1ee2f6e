import { hchacha20 } from '../../../runtime/aead.js';

export { hchacha20 };

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
