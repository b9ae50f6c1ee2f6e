import { isIP } from 'node:net';

/**
 * What a sniffer makes of the bytes it was given: the host it read, a request for more bytes
 * (at least `atLeast` in all, from the start), or a reason why these bytes will never name a
 * host. Sniffers are pure functions on Buffers: they never throw on any input and never keep
 * or change the buffer.
 */
export type SniffResult =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'more'; readonly atLeast: number }
  | { readonly kind: 'fail'; readonly reason: string };

export const found = (host: string): SniffResult => ({ kind: 'host', host });
export const more = (atLeast: number): SniffResult => ({ kind: 'more', atLeast });
export const fail = (reason: string): SniffResult => ({ kind: 'fail', reason });

const NAME = /^[a-z0-9_*-](?:[a-z0-9_.*-]{0,251}[a-z0-9_-])?$/i;

/**
 * A name we are willing to route and dial by: letters, digits, `-`, `_`, dots between labels,
 * at most 253 characters, no trailing dot (RFC 6066 forbids it in SNI), and not an IP literal
 * (mihomo drops a sniffed IP: the destination already says it). Anything else read from the
 * wire (spaces, control bytes, non-ASCII) is refused rather than handed to rules and dialers.
 */
export function hostOrFail(name: string): SniffResult {
  if (name.length === 0) return fail('empty host');
  if (isIP(name) !== 0 || (name.startsWith('[') && name.endsWith(']'))) return fail('host is ip');
  if (!NAME.test(name) || name.includes('..')) return fail('invalid host');
  return found(name);
}
