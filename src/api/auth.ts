import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Compares two secrets in constant time (both hashed first, so their lengths leak nothing). */
export function sameSecret(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/**
 * mihomo's rule: no secret, everyone; a WebSocket upgrade with a non-empty `?token=` is judged by
 * the token (browsers cannot set headers on WebSockets); otherwise `Authorization: Bearer SECRET`.
 */
export function authorized(req: IncomingMessage, url: URL, secret: string): boolean {
  if (secret === '') return true;
  const token = url.searchParams.get('token');
  if (isUpgrade(req) && token) return sameSecret(token, secret);
  const header = req.headers.authorization ?? '';
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== 'Bearer') return false;
  return sameSecret(header.slice(space + 1), secret);
}

/** A WebSocket upgrade request. */
export function isUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}
