import { ipWords } from './cidr.js';

/**
 * A dotted-quad IPv4 address in text[from, to) as a number, or -1 (anything else, leading
 * zeros included, goes the slow way). The lookups' hot path: no split, no allocation.
 */
export function fastV4(text: string, from = 0, to = text.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1; // a leading zero
      part = part * 10 + (c - 0x30);
      if (part > 255 || ++digits > 3) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/**
 * Reads a plain IPv6 address (hex groups, at most one `::`; no zone, no dotted tail: those go
 * the slow way) from text[from, to) into out[0..3]; false when it is not one. The lookups' hot
 * path: no split, no allocation.
 */
export function fastV6(text: string, out: Uint32Array, from = 0, to = text.length): boolean {
  const groups = v6Groups;
  let n = 0;
  /** where the `::` stands (groups before it), -1 without one */
  let gap = -1;
  let i = from;
  if (text.charCodeAt(i) === 0x3a) {
    if (text.charCodeAt(i + 1) !== 0x3a || i + 1 >= to) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    let value = 0;
    let digits = 0;
    for (; i < to && digits <= 4; i++) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else break;
      value = (value << 4) | d;
      digits++;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = value;
    if (i === to) break;
    if (text.charCodeAt(i) !== 0x3a || ++i === to) return false; // a dot, a zone, a trailing `:`
    if (text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  out[0] = out[1] = out[2] = out[3] = 0;
  const left = gap < 0 ? n : gap;
  for (let g = 0; g < n; g++) {
    const at = g < left ? g : 8 - (n - g);
    const k = at >>> 1;
    out[k] = (at & 1) === 0 ? ((groups[g] << 16) | out[k]) >>> 0 : (out[k] | groups[g]) >>> 0;
  }
  return true;
}

const v6Groups = new Uint16Array(8);

/**
 * The words of an IP (text) written into out: returns 1 (IPv4, out[0]; an IPv4-mapped IPv6
 * address counts as its IPv4 address), 4 (IPv6, out[0..3]) or 0 (not an IP). Plain forms
 * allocate nothing; a zone or a dotted IPv6 tail goes through ipWords.
 */
export function readIp(ip: string, out: Uint32Array): 0 | 1 | 4 {
  const v4 = fastV4(ip);
  if (v4 >= 0) {
    out[0] = v4;
    return 1;
  }
  if (!fastV6(ip, out)) {
    const w = ipWords(ip);
    if (w === undefined) return 0;
    out.set(w);
    if (w.length === 1) return 1;
  }
  if (out[0] === 0 && out[1] === 0 && out[2] === 0xffff) {
    out[0] = out[3];
    return 1;
  }
  return 4;
}
