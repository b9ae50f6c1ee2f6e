import { createHmac } from 'node:crypto';

/** The salts (HMAC keys) of VMess AEAD, as v2ray names them. */
export const KDF_SALT = {
  AUTH_ID_KEY: 'AES Auth ID Encryption',
  RESP_LEN_KEY: 'AEAD Resp Header Len Key',
  RESP_LEN_IV: 'AEAD Resp Header Len IV',
  RESP_KEY: 'AEAD Resp Header Key',
  RESP_IV: 'AEAD Resp Header IV',
  ROOT: 'VMess AEAD KDF',
  HEADER_KEY: 'VMess Header AEAD Key',
  HEADER_IV: 'VMess Header AEAD Nonce',
  HEADER_LEN_KEY: 'VMess Header AEAD Key_Length',
  HEADER_LEN_IV: 'VMess Header AEAD Nonce_Length',
  AUTH_LEN: 'auth_len',
} as const;

/** The part of a hash object the chain needs (Node's Hash and Hmac fit). */
interface HashLike {
  update(data: Buffer): HashLike;
  digest(): Buffer;
}
type HashFactory = () => HashLike;

const BLOCK = 64; // SHA-256's block size, inherited by every HMAC in the chain

/**
 * HMAC (RFC 2104) over an arbitrary hash: VMess nests HMACs, each using the previous HMAC as
 * its hash function, which Node's createHmac cannot express past the first level.
 */
function hmacOver(hash: HashFactory, key: Buffer): HashFactory {
  const k = key.length > BLOCK ? hash().update(key).digest() : key;
  const ipad = Buffer.alloc(BLOCK, 0x36);
  const opad = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i] ^= k[i];
    opad[i] ^= k[i];
  }
  return () => {
    const inner = hash().update(ipad);
    const h: HashLike = {
      update(data) {
        inner.update(data);
        return h;
      },
      digest: () => hash().update(opad).update(inner.digest()).digest(),
    };
    return h;
  };
}

const asBuffer = (p: string | Buffer): Buffer => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p);

/**
 * VMess AEAD's KDF: HMAC-SHA256 keyed "VMess AEAD KDF", wrapped once per path element in an
 * HMAC keyed by that element (the inner HMAC being the hash), applied to `key`. 32 bytes.
 */
export function kdf(key: Buffer, ...path: readonly (string | Buffer)[]): Buffer {
  let hash: HashFactory = () => createHmac('sha256', KDF_SALT.ROOT);
  for (const p of path) hash = hmacOver(hash, asBuffer(p));
  return hash().update(key).digest();
}

/** The first 16 bytes of {@link kdf} (an AES-128 key). */
export function kdf16(key: Buffer, ...path: readonly (string | Buffer)[]): Buffer {
  return kdf(key, ...path).subarray(0, 16);
}
