import { absorbBlock, EMPTY_MIDSTATE, finishInto, type Midstate } from './sha256.js';

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

const BLOCK = 64; // SHA-256's block size, inherited by every HMAC in the chain

/**
 * A keyed hash of the chain with nothing absorbed yet, as saved SHA-256 prefixes: level 0 is
 * SHA-256 itself (one midstate); level L is an HMAC over level L-1, i.e. level L-1 after its
 * ipad block (`inner`) and after its opad block (`outer`). Templates never change, so they are
 * built once per key and shared.
 */
type Template = Midstate | { readonly inner: Template; readonly outer: Template; readonly level: number };

const levelOf = (t: Template): number => ('level' in t ? t.level : 0);

/** `t` after one more 64-byte block (only the innermost SHA-256 absorbs it). */
function absorb(t: Template, block: Uint8Array): Template {
  if (!('level' in t)) return absorbBlock(t, block);
  return { inner: absorb(t.inner, block), outer: t.outer, level: t.level };
}

/** One 32-byte scratch per level: a level's inner digest lives there while its outer runs. */
const scratch: Uint8Array[] = [];

/** The hash of `msg` under template `t`, into `out` (2^level SHA-256 finishes, no allocation). */
function hashInto(t: Template, msg: Uint8Array, out: Uint8Array): void {
  if (!('level' in t)) {
    finishInto(t, msg, out);
    return;
  }
  const x = (scratch[t.level] ??= new Uint8Array(32));
  hashInto(t.inner, msg, x);
  hashInto(t.outer, x, out);
}

/** HMAC (RFC 2104) keyed `key` over the hash `below`, as a template. */
function keyed(below: Template, key: Uint8Array): Template {
  let k = key;
  if (k.length > BLOCK) {
    k = new Uint8Array(32);
    hashInto(below, key, k);
  }
  const ipad = new Uint8Array(BLOCK).fill(0x36);
  const opad = new Uint8Array(BLOCK).fill(0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i] ^= k[i];
    opad[i] ^= k[i];
  }
  return { inner: absorb(below, ipad), outer: absorb(below, opad), level: levelOf(below) + 1 };
}

const asBuffer = (p: string | Buffer): Buffer => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p);

const ROOT = keyed(EMPTY_MIDSTATE, asBuffer(KDF_SALT.ROOT));
/** Templates of paths made of constant salts only (the KDF_SALT values: a handful). */
const saltPaths = new Map<string, Template>();
const MAX_SALT_PATHS = 64;

/**
 * VMess AEAD's KDF: HMAC-SHA256 keyed "VMess AEAD KDF", wrapped once per path element in an
 * HMAC keyed by that element (the inner HMAC being the hash), applied to `key`. 32 bytes.
 * Leading string elements (the constant salts) reuse saved templates.
 */
export function kdf(key: Buffer, ...path: readonly (string | Buffer)[]): Buffer {
  let t = ROOT;
  let id = '';
  let cached = true;
  for (const p of path) {
    if (cached && typeof p === 'string') {
      id += `${p}\0`;
      let next = saltPaths.get(id);
      if (next === undefined) {
        next = keyed(t, asBuffer(p));
        if (saltPaths.size < MAX_SALT_PATHS) saltPaths.set(id, next);
      }
      t = next;
    } else {
      cached = false;
      t = keyed(t, asBuffer(p));
    }
  }
  const out = Buffer.allocUnsafe(32);
  hashInto(t, key, out);
  return out;
}

/** The first 16 bytes of {@link kdf} (an AES-128 key). */
export function kdf16(key: Buffer, ...path: readonly (string | Buffer)[]): Buffer {
  return kdf(key, ...path).subarray(0, 16);
}
