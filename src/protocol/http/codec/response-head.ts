import { STATUS_CODES } from 'node:http';
import { ProxyError } from '../../../core/errors.js';
import type { ParseStep } from '../../common/read-message.js';

/** The status line and headers of an HTTP/1.x response. */
export interface ResponseHead {
  /** `1.1`, `1.0` */
  readonly version: string;
  readonly status: number;
  /** the reason phrase as sent; the standard one when the server sent none */
  readonly reason: string;
  /** header fields in order, names as sent */
  readonly headers: readonly (readonly [string, string])[];
}

/** A head longer than this is refused (a proxy's CONNECT answer is a few hundred bytes). */
export const MAX_RESPONSE_HEAD = 16 * 1024;

const PREFIX = Buffer.from('HTTP/', 'latin1');
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?:[ \t]+(.*))?$/;

const garbage = (why: string): ProxyError => new ProxyError('PROTOCOL', `bad answer to CONNECT: ${why}`);

/**
 * Where the head starting at `from` ends (the index after its blank line), or -1 if not yet
 * received. Bare LF line ends are accepted, as Go's reader accepts them.
 */
function headEnd(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) return i + 2;
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Parses one response head at `from`. Returns undefined while incomplete; throws PROTOCOL as
 * soon as the bytes cannot be an HTTP response (wrong prefix, bad status line) or the head
 * grows past {@link MAX_RESPONSE_HEAD}.
 */
export function parseResponseHead(buf: Buffer, from = 0): ParseStep<ResponseHead> {
  const avail = Math.min(buf.length - from, PREFIX.length);
  if (buf.compare(PREFIX, 0, avail, from, from + avail) !== 0) throw garbage('not an HTTP response');
  const end = headEnd(buf, from);
  if (end < 0) {
    if (buf.length - from > MAX_RESPONSE_HEAD) throw garbage(`response head longer than ${MAX_RESPONSE_HEAD} bytes`);
    return undefined;
  }
  if (end - from > MAX_RESPONSE_HEAD) throw garbage(`response head longer than ${MAX_RESPONSE_HEAD} bytes`);
  const lines = buf.toString('latin1', from, end).split(/\r?\n/);
  const m = STATUS_LINE.exec(lines[0]);
  if (!m) throw garbage(`bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const status = Number(m[3]);
  if (status < 100) throw garbage(`bad status code ${m[3]}`);
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    // a line without a colon (or an obsolete folded line) carries nothing we need: skip it
    if (colon > 0) headers.push([lines[i].slice(0, colon).trim(), lines[i].slice(colon + 1).trim()]);
  }
  const reason = m[4]?.trim() || STATUS_CODES[status] || '';
  return { value: { version: `${m[1]}.${m[2]}`, status, reason, headers }, used: end - from };
}

/**
 * The final answer to a CONNECT: skips interim 1xx heads (except 101, which is final), so
 * `used` covers them too. Everything after `used` is tunnelled data.
 */
export function parseConnectResponse(buf: Buffer): ParseStep<ResponseHead> {
  let at = 0;
  for (let i = 0; i < 16; i++) {
    const step = parseResponseHead(buf, at);
    if (step === undefined) return undefined;
    at += step.used;
    const s = step.value.status;
    if (s >= 200 || s === 101) return { value: step.value, used: at };
    if (at >= buf.length) return undefined;
  }
  throw garbage('too many interim responses');
}
