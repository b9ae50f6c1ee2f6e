import { createCipheriv } from 'node:crypto';

const known = new Map<string, boolean>();

/**
 * Whether this runtime's node:crypto builds `cipher` (tried once, then remembered). Bun's
 * node:crypto, for one, has neither 'chacha20-poly1305' nor 'chacha20' (oven-sh/bun#8072).
 */
export function nodeHasCipher(cipher: string, keySize: number, ivSize: number): boolean {
  let has = known.get(cipher);
  if (has === undefined) {
    try {
      createCipheriv(cipher as 'aes-128-gcm', Buffer.alloc(keySize), Buffer.alloc(ivSize), { authTagLength: 16 }).final();
      has = true;
    } catch {
      has = false;
    }
    known.set(cipher, has);
  }
  return has;
}
