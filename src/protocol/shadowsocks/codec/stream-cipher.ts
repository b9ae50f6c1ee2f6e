import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { KeystreamCipher } from '../../../core/cipher.js';
import { chacha20Stream } from '../../../runtime/aead.js';
import type { MethodSpec } from './methods.js';
import { hchacha20, xchachaStreamIv } from './xchacha.js';

/**
 * A legacy stream cipher instance for `key` and the per-stream (or per-packet) `iv`, mapped
 * onto node:crypto, the ChaCha family through the runtime seam (runtime/aead.ts). Its 'chacha20'
 * takes a 16-byte IV that is the state's words 12..15 (32-bit block counter + 96-bit nonce), so
 * each variant lays its nonce out accordingly.
 */
export function streamCipher(spec: MethodSpec, key: Buffer, iv: Buffer, decrypt: boolean): KeystreamCipher {
  const make = decrypt ? createDecipheriv : createCipheriv;
  switch (spec.name) {
    case 'chacha20-ietf': {
      // counter 0 + the 12-byte IETF nonce
      const full = Buffer.alloc(16);
      iv.copy(full, 4);
      return chacha20Stream(key, full);
    }
    case 'chacha20': {
      // DJB's original: 64-bit counter (words 12-13) + 8-byte nonce (words 14-15)
      const full = Buffer.alloc(16);
      iv.copy(full, 8);
      return chacha20Stream(key, full);
    }
    case 'xchacha20':
      return chacha20Stream(hchacha20(key, iv.subarray(0, 16)), xchachaStreamIv(iv));
    case 'rc4-md5':
      // the per-stream RC4 key is MD5(key || iv); RC4 itself takes no IV
      return make('rc4', createHash('md5').update(key).update(iv).digest(), null);
    default:
      return make(spec.stream!, key, iv);
  }
}
