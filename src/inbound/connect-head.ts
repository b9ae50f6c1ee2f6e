import type { Address } from '../core/address.js';
import { parseConnectTarget } from './http-headers.js';

/** A CONNECT request read without node:http. */
export interface SimpleConnect {
  readonly target: Address;
  readonly httpVersion: '1.0' | '1.1';
  /** bytes of the head, blank line included; what follows is the client's first tunnel data */
  readonly used: number;
}

/** node:http's default header limit: a longer head is left to it (it answers 431). */
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** CONNECT authority-form, in the plain characters hosts and ports use. */
const REQUEST_LINE = /^CONNECT ([A-Za-z0-9._:[\]-]+) HTTP\/1\.([01])$/;
/** `Name: value` with a token name and a value of visible ASCII, spaces and tabs only. */
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e]*$/;
/** Headers whose handling node:http's parser owns (message framing): their presence means "ask node:http". */
const FRAMING = /^(content-length|transfer-encoding)\s*:/i;

/**
 * Reads a CONNECT head from the first bytes of a connection when it is the plain, common kind:
 * complete in `first`, an `HTTP/1.0` or `1.1` request line with a `host:port` target, and
 * headers that are clean `Name: value` lines without message-framing headers. Anything else
 * (incomplete, odd, or not a CONNECT) gives undefined and the caller hands the bytes to
 * node:http, which serves it as before; the plain kind is one node:http accepts and answers the
 * same way, so this only skips its parser and per-connection state on the hot path.
 */
export function parseSimpleConnect(first: Buffer): SimpleConnect | undefined {
  // 'C' first: every other request pays only this one comparison.
  if (first.length < 16 || first[0] !== 0x43) return undefined;
  const end = first.indexOf(HEAD_END);
  if (end < 0 || end + 4 > MAX_HEAD_BYTES) return undefined;
  const lines = first.toString('latin1', 0, end).split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]);
  if (m === null) return undefined;
  for (let i = 1; i < lines.length; i++) {
    if (!HEADER_LINE.test(lines[i]) || FRAMING.test(lines[i])) return undefined;
  }
  const target = parseConnectTarget(m[1]);
  if (target === undefined) return undefined;
  return { target, httpVersion: m[2] === '0' ? '1.0' : '1.1', used: end + 4 };
}
