import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { ProxyError } from '../../../core/errors.js';
import { createAuthId, openAuthId } from './auth-id.js';
import { kdf, kdf16, KDF_SALT } from './kdf.js';
import type { VmessUserKeys } from './user.js';

const TAG = 16;

/** AES-128-GCM seal of `plain` into `out` at `at` (ciphertext then tag), with a fresh cipher. */
export function gcmSeal(key: Buffer, nonce: Buffer, plain: Buffer, aad: Buffer, out: Buffer, at: number): void {
  const c = createCipheriv('aes-128-gcm', key, nonce);
  c.setAAD(aad);
  const ct = c.update(plain);
  c.final();
  ct.copy(out, at);
  c.getAuthTag().copy(out, at + ct.length);
}

/** AES-128-GCM open of `sealed` (ciphertext ‖ tag); undefined when it does not authenticate. */
export function gcmOpen(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer | undefined): Buffer | undefined {
  const d = createDecipheriv('aes-128-gcm', key, nonce);
  if (aad) d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  const plain = d.update(sealed.subarray(0, sealed.length - TAG));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return plain;
}

/**
 * Seals a request header as VMess AEAD sends it:
 * `authID(16) ‖ GCM(len, 2+16) ‖ connectionNonce(8) ‖ GCM(header, n+16)`, the length and header
 * keys/nonces derived by KDF from cmdKey, the auth ID and the connection nonce (AAD: auth ID).
 * `extra` bytes of room are left at the end (for coalescing the first body bytes).
 */
export function sealAeadHeader(
  user: VmessUserKeys,
  header: Buffer,
  unixSeconds: number,
  extra = 0,
  fixed?: { rand: Buffer; nonce: Buffer },
): Buffer {
  const authId = createAuthId(user.authIdKey, unixSeconds, fixed?.rand);
  const nonce = fixed ? fixed.nonce : randomFillSync(Buffer.allocUnsafe(8));
  const out = Buffer.allocUnsafe(16 + 18 + 8 + header.length + TAG + extra);
  authId.copy(out, 0);
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(header.length, 0);
  const k = user.cmdKey;
  gcmSeal(kdf16(k, KDF_SALT.HEADER_LEN_KEY, authId, nonce), kdf(k, KDF_SALT.HEADER_LEN_IV, authId, nonce).subarray(0, 12), len, authId, out, 16);
  nonce.copy(out, 34);
  gcmSeal(kdf16(k, KDF_SALT.HEADER_KEY, authId, nonce), kdf(k, KDF_SALT.HEADER_IV, authId, nonce).subarray(0, 12), header, authId, out, 42);
  return out;
}

/** A request header opened by {@link openAeadHeader}. */
export interface OpenedHeader {
  readonly header: Buffer;
  /** bytes of `data` the sealed header took */
  readonly length: number;
  readonly unixSeconds: number;
  readonly authId: Buffer;
}

/**
 * Opens a sealed request header at the start of `data` for one candidate user (server side).
 * Returns undefined when more bytes are needed; 'mismatch' when the auth ID is not this user's;
 * throws PROTOCOL when the auth ID matched but the sealed parts do not open.
 */
export function openAeadHeader(user: VmessUserKeys, data: Buffer): OpenedHeader | 'mismatch' | undefined {
  if (data.length < 16) return undefined;
  const authId = data.subarray(0, 16);
  const opened = openAuthId(user.authIdKey, authId);
  if (!opened) return 'mismatch';
  if (data.length < 42) return undefined;
  const nonce = data.subarray(34, 42);
  const k = user.cmdKey;
  const len = gcmOpen(kdf16(k, KDF_SALT.HEADER_LEN_KEY, authId, nonce), kdf(k, KDF_SALT.HEADER_LEN_IV, authId, nonce).subarray(0, 12), data.subarray(16, 34), authId);
  if (!len) throw new ProxyError('PROTOCOL', 'VMess header length does not authenticate');
  const n = len.readUInt16BE(0);
  if (data.length < 42 + n + TAG) return undefined;
  const header = gcmOpen(kdf16(k, KDF_SALT.HEADER_KEY, authId, nonce), kdf(k, KDF_SALT.HEADER_IV, authId, nonce).subarray(0, 12), data.subarray(42, 42 + n + TAG), authId);
  if (!header) throw new ProxyError('PROTOCOL', 'VMess header does not authenticate');
  return { header, length: 42 + n + TAG, unixSeconds: opened.unixSeconds, authId: Buffer.from(authId) };
}
