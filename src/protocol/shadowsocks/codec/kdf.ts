import { createHash, createHmac } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';

/**
 * OpenSSL's EVP_BytesToKey with MD5, one round, no salt: how every pre-2022 Shadowsocks
 * implementation turns a password into the master key (D_i = MD5(D_{i-1} || password)).
 */
export function evpBytesToKey(password: string, keySize: number): Buffer {
  const pass = Buffer.from(password, 'utf8');
  const parts: Buffer[] = [];
  let have = 0;
  let prev = Buffer.alloc(0);
  while (have < keySize) {
    prev = createHash('md5').update(prev).update(pass).digest();
    parts.push(prev);
    have += prev.length;
  }
  return Buffer.concat(parts).subarray(0, keySize);
}

const SS_SUBKEY = Buffer.from('ss-subkey');

/**
 * SIP004 session subkey: HKDF-SHA1(master key, salt, info "ss-subkey") (RFC 5869). Spelled out
 * with HMACs because node's hkdfSync costs several times more per call (a key-derivation
 * context each time), and every stream derives two.
 */
export function aeadSubkey(masterKey: Buffer, salt: Buffer): Buffer {
  const prk = createHmac('sha1', salt).update(masterKey).digest();
  // lives as long as the stream: its own memory, not a slice pinning a shared pool slab
  const out = Buffer.allocUnsafeSlow(masterKey.length);
  let prev: Buffer | undefined;
  for (let at = 0, i = 1; at < out.length; i++) {
    const h = createHmac('sha1', prk);
    if (prev) h.update(prev);
    prev = h.update(SS_SUBKEY).update(COUNTER[i]).digest();
    at += prev.copy(out, at);
  }
  return out;
}

/** HKDF's one-byte block counters (a 32-byte key needs two SHA-1 blocks; 255 is the cap). */
const COUNTER: readonly Buffer[] = Array.from({ length: 256 }, (_, i) => Buffer.from([i]));

const SESSION_CONTEXT = new TextEncoder().encode('shadowsocks 2022 session subkey');
const IDENTITY_CONTEXT = new TextEncoder().encode('shadowsocks 2022 identity subkey');

function deriveKey(context: Uint8Array, psk: Buffer, salt: Buffer): Buffer {
  const material = Buffer.allocUnsafe(psk.length + salt.length);
  psk.copy(material, 0);
  salt.copy(material, psk.length);
  return Buffer.from(blake3(material, { context, dkLen: psk.length }));
}

/** SIP022 §2.2: BLAKE3 derive_key("shadowsocks 2022 session subkey", psk || salt). UDP uses
 * the 8-byte session id as the salt. */
export function sessionSubkey2022(psk: Buffer, salt: Buffer): Buffer {
  return deriveKey(SESSION_CONTEXT, psk, salt);
}

/** SIP023 (identity headers): BLAKE3 derive_key("shadowsocks 2022 identity subkey", iPSK || salt). */
export function identitySubkey2022(ipsk: Buffer, salt: Buffer): Buffer {
  return deriveKey(IDENTITY_CONTEXT, ipsk, salt);
}

/** SIP023: the first 16 bytes of BLAKE3(psk), the plaintext of an identity header. */
export function pskHash2022(psk: Buffer): Buffer {
  return Buffer.from(blake3(psk)).subarray(0, 16);
}

/**
 * A 2022 `password`: one base64 PSK, or `iPSK:…:uPSK` for multi-user servers (identity
 * headers). Every key must be exactly `keySize` bytes, as mihomo requires. Returns the keys or
 * a message saying what is wrong.
 */
export function parsePsks(password: string, keySize: number): Buffer[] | string {
  const parts = password.split(':');
  const keys: Buffer[] = [];
  for (const [i, text] of parts.entries()) {
    const t = text.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) return `key ${i + 1} of the password is not base64`;
    const k = Buffer.from(t, 'base64');
    if (k.length !== keySize) return `key ${i + 1} of the password is ${k.length} bytes, the cipher needs ${keySize}`;
    keys.push(k);
  }
  return keys;
}
