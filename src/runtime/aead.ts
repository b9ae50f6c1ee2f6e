import { createCipheriv, createDecipheriv, getCiphers, type KeyObject } from 'node:crypto';
import type { AeadOpener, AeadSealer, KeystreamCipher } from '../core/cipher.js';
import { NobleChaCha20, nobleHChaCha20 } from './chacha-noble.js';
import { NobleChaChaPolyOpener, NobleChaChaPolySealer } from './chacha-poly-noble.js';
import { nodeHasCipher } from './node-has.js';

/**
 * The runtime seam for ciphers: node:crypto wherever it has the cipher (its objects returned as
 * they are), @noble/ciphers where it does not (Bun: oven-sh/bun#8072). Each choice is made once,
 * by trying the cipher, never by asking which runtime this is.
 */

/** The AEADs protocols build per message (XChaCha20-Poly1305 reduces to chacha20-poly1305). */
export type AeadName = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

const TAG = 16;
const KEY_SIZE: Record<AeadName, number> = { 'aes-128-gcm': 16, 'aes-192-gcm': 24, 'aes-256-gcm': 32, 'chacha20-poly1305': 32 };

/** Builds one message's sealer or opener for a key and nonce. */
export interface AeadProvider {
  /** which library answers: for tests and the startup log */
  readonly source: 'node:crypto' | '@noble/ciphers';
  /** whether a KeyObject may stand for the key bytes (node:crypto only) */
  readonly keyObjects: boolean;
  sealer(key: Buffer | KeyObject, nonce: Buffer): AeadSealer;
  opener(key: Buffer | KeyObject, nonce: Buffer): AeadOpener;
}

function nodeProvider(name: AeadName): AeadProvider {
  const opts = { authTagLength: TAG };
  const alg = name as 'aes-128-gcm';
  return {
    source: 'node:crypto',
    keyObjects: true,
    sealer: (key, nonce) => createCipheriv(alg, key, nonce, opts),
    opener: (key, nonce) => createDecipheriv(alg, key, nonce, opts),
  };
}

const nobleChaChaPoly: AeadProvider = {
  source: '@noble/ciphers',
  keyObjects: false,
  sealer: (key, nonce) => new NobleChaChaPolySealer(key as Buffer, nonce),
  opener: (key, nonce) => new NobleChaChaPolyOpener(key as Buffer, nonce),
};

const providers = new Map<AeadName, AeadProvider>();

/** The provider for `name` on this runtime. */
export function aeadProvider(name: AeadName): AeadProvider {
  let p = providers.get(name);
  if (p === undefined) {
    if (nodeHasCipher(name, KEY_SIZE[name], 12)) p = nodeProvider(name);
    else if (name === 'chacha20-poly1305') p = nobleChaChaPoly;
    else throw new Error(`this runtime's node:crypto has no ${name}`);
    providers.set(name, p);
  }
  return p;
}

let nodeChaCha: boolean | undefined;
const hasNodeChaCha20 = (): boolean => (nodeChaCha ??= nodeHasCipher('chacha20', 32, 16));

/**
 * Raw ChaCha20 with node's 'chacha20' IV layout (16 bytes: 32-bit LE block counter, then the
 * 12-byte nonce); encrypting and decrypting are the same.
 */
export function chacha20Stream(key: Buffer, iv16: Buffer): KeystreamCipher {
  return hasNodeChaCha20() ? createCipheriv('chacha20', key, iv16) : new NobleChaCha20(key, iv16);
}

/**
 * Whether a keystream cipher by node:crypto name can be built here: 'chacha20' always (node's or
 * noble's, chacha20Stream), any other as the runtime's node:crypto lists it.
 */
export function keystreamAvailable(cipher: string): boolean {
  return cipher === 'chacha20' || getCiphers().includes(cipher);
}

// "expand 32-byte k": ChaCha's four constant words, little-endian.
const SIGMA = Uint32Array.of(0x61707865, 0x3320646e, 0x79622d32, 0x6b206574);
const ZEROS = Buffer.alloc(64);

/**
 * HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the XChaCha20 subkey for `key` and the first 16
 * bytes of a 24-byte nonce. node:crypto has no HChaCha20, but its 'chacha20' (IV = the state's
 * words 12..15) gives one block = rounds(S) + S; S is known, so rounds(S) = block − S word by
 * word, and HChaCha20 is words 0..3 and 12..15 of rounds(S). Without node's chacha20: noble's.
 */
export function hchacha20(key: Buffer, nonce16: Buffer): Buffer {
  if (!hasNodeChaCha20()) return nobleHChaCha20(key, nonce16);
  const block = createCipheriv('chacha20', key, nonce16).update(ZEROS);
  const out = Buffer.allocUnsafe(32);
  for (let i = 0; i < 4; i++) {
    out.writeUInt32LE((block.readUInt32LE(i * 4) - SIGMA[i]) >>> 0, i * 4);
    out.writeUInt32LE((block.readUInt32LE(48 + i * 4) - nonce16.readUInt32LE(i * 4)) >>> 0, 16 + i * 4);
  }
  return out;
}
