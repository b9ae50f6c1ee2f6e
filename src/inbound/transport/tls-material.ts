import { readFileSync } from 'node:fs';
import { ProxyError } from '../../core/errors.js';

/**
 * A `certificate` / `private-key` value as mihomo reads it: inline PEM text, or else a file
 * path (relative paths resolve against the working directory). CONFIG error when the file
 * cannot be read or holds no PEM block.
 */
export function loadPem(value: string, what: string): Buffer {
  if (value.includes('-----BEGIN')) return Buffer.from(value, 'utf8');
  let text: Buffer;
  try {
    text = readFileSync(value);
  } catch (err) {
    throw new ProxyError('CONFIG', `${what} ${value}: ${(err as Error).message}`, { cause: err });
  }
  if (!text.includes('-----BEGIN')) throw new ProxyError('CONFIG', `${what} ${value}: no PEM block`);
  return text;
}
