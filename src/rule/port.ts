import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { payloadError, quote } from './rule-error.js';

/** mihomo refuses more entries than this in one port list. */
const MAX_RANGES = 28;

/** Which port of the connection a port rule reads. */
export type PortKind = 'SrcPort' | 'DstPort' | 'InPort';

/**
 * Parses mihomo's port list: `80`, `80/443`, `1000-2000`, `80/443/8000-9000` (`,` also
 * separates, empty entries are skipped, `[ ]` around numbers are trimmed, a reversed range is
 * swapped). Returns flat [lo, hi, lo, hi…] pairs. Unlike mihomo, a number above 65535 is an
 * error instead of silently wrapping around.
 */
export function parsePortRanges(typeName: string, text: string): Uint16Array {
  const list = text.trim();
  if (list === '' || list === '*') throw payloadError(typeName, text, 'no port given');
  const parts = list.replaceAll(',', '/').split('/');
  if (parts.length > MAX_RANGES) {
    throw payloadError(typeName, text, `at most ${MAX_RANGES} ports or ranges`);
  }
  const out: number[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const ends = part.split('-');
    if (ends.length > 2) throw payloadError(typeName, text, `bad range ${quote(part)}`);
    const lo = parsePort(typeName, text, ends[0]);
    const hi = ends.length === 2 ? parsePort(typeName, text, ends[1]) : lo;
    out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  if (out.length === 0) throw payloadError(typeName, text, 'no port given');
  return Uint16Array.from(out);
}

function parsePort(typeName: string, text: string, piece: string): number {
  const digits = piece.replace(/^[[\] ]+|[[\] ]+$/g, '');
  if (!/^\d{1,5}$/.test(digits) || Number(digits) > 65535) {
    throw payloadError(typeName, text, `bad port ${quote(piece)}`);
  }
  return Number(digits);
}

/** SRC-PORT, DST-PORT, IN-PORT: the port is in one of the ranges. */
export class PortRule implements Rule {
  readonly needsIp = false;
  readonly #ranges: Uint16Array;
  constructor(
    readonly type: PortKind,
    typeName: string,
    /** as written, as mihomo shows it */
    readonly payload: string,
    readonly target: string,
  ) {
    this.#ranges = parsePortRanges(typeName, payload);
  }
  match(meta: Metadata): boolean {
    const port =
      this.type === 'DstPort'
        ? meta.destination.port
        : this.type === 'SrcPort'
          ? meta.source.port
          : meta.inbound.port;
    const r = this.#ranges;
    for (let i = 0; i < r.length; i += 2) if (port >= r[i] && port <= r[i + 1]) return true;
    return false;
  }
}
