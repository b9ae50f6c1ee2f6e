import { createHash } from 'node:crypto';
import { kdf16, KDF_SALT } from './kdf.js';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The 16 bytes of a VMess user id. A text that is not a UUID is mapped, as mihomo does, to the
 * name-based UUID v5 of that text in the nil namespace, so such configs keep working.
 */
export function userIdBytes(id: string): Buffer {
  let t = id.trim();
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (t.toLowerCase().startsWith('urn:uuid:')) t = t.slice(9);
  if (UUID_RE.test(t)) return Buffer.from(t.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(Buffer.alloc(16)).update(id, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  return h;
}

/** True when `id` is a UUID text (otherwise it is hashed into one, see {@link userIdBytes}). */
export function isUuidText(id: string): boolean {
  let t = id.trim();
  if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (t.toLowerCase().startsWith('urn:uuid:')) t = t.slice(9);
  return UUID_RE.test(t);
}

/** The keys derived once per user: cmdKey = MD5(id ‖ fixed GUID), and the auth ID key. */
export interface VmessUserKeys {
  readonly cmdKey: Buffer;
  /** AES-128 key of the auth ID block: KDF16(cmdKey, "AES Auth ID Encryption") */
  readonly authIdKey: Buffer;
}

/** Derives the per-user keys from the 16-byte user id. */
export function userKeys(id: Buffer): VmessUserKeys {
  const cmdKey = createHash('md5').update(id).update('c48619fe-8f02-49e0-b9e9-edf763e17e21').digest();
  return { cmdKey, authIdKey: kdf16(cmdKey, KDF_SALT.AUTH_ID_KEY) };
}
