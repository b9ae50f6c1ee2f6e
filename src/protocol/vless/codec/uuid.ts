import { createHash } from 'node:crypto';

const CANONICAL = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * The 16 bytes of a user id as mihomo and Xray read it: a UUID (canonical, without hyphens,
 * in braces or with a `urn:uuid:` prefix), or else any other string mapped to a UUIDv5 of
 * itself in the nil namespace (Xray's "custom id" rule, so `uuid: my-password` works).
 */
export function uuidBytes(text: string): Buffer {
  let t = text.trim();
  if (t.toLowerCase().startsWith('urn:uuid:')) t = t.slice(9);
  else if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
  if (CANONICAL.test(t) && (t.length === 32 || t.length === 36)) return Buffer.from(t.replace(/-/g, ''), 'hex');
  return uuidV5(Buffer.alloc(16), text);
}

/** RFC 4122 name-based UUID (SHA-1): version 5, RFC variant. */
export function uuidV5(namespace: Buffer, name: string): Buffer {
  const h = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  return Buffer.from(h);
}

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of 16 bytes. */
export function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
