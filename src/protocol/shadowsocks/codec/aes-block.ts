import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * One AES block (16 bytes) through AES-ECB with a 16- or 32-byte key: SIP022 encrypts UDP
 * separate headers and identity headers this way.
 */
export function aesBlock(key: Buffer, block: Buffer, decrypt = false): Buffer {
  const alg = key.length === 32 ? 'aes-256-ecb' : key.length === 24 ? 'aes-192-ecb' : 'aes-128-ecb';
  const c = decrypt ? createDecipheriv(alg, key, null) : createCipheriv(alg, key, null);
  c.setAutoPadding(false);
  return c.update(block);
}
