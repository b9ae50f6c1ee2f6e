import { isIP } from 'node:net';
import { unmapIPv4 } from '../core/address.js';

/** An IP prefix: IPv4 as one 32-bit word, IPv6 as four. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly words: Uint32Array;
  readonly prefix: number;
  /** the text it was parsed from */
  readonly text: string;
}

function parseV4(ip: string): number {
  const p = ip.split('.');
  return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
}

/** The words of an IP literal (IPv4-mapped IPv6 is unmapped first); undefined if not an IP. */
export function ipWords(ipText: string): Uint32Array | undefined {
  const ip = unmapIPv4(ipText);
  const family = isIP(ip);
  if (family === 4) return Uint32Array.of(parseV4(ip));
  if (family !== 6) return undefined;
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups = new Array<number>(8).fill(0);
  let tail: string[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // embedded IPv4 tail: ::ffff:1.2.3.4 style
    const v4 = parseV4(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  const head = (dbl >= 0 ? text.slice(0, dbl) : text).split(':').filter((s) => s !== '');
  if (dbl >= 0) tail = text.slice(dbl + 2).split(':').filter((s) => s !== '');
  head.forEach((g, i) => (groups[i] = parseInt(g, 16)));
  tail.forEach((g, i) => (groups[8 - tail.length + i] = parseInt(g, 16)));
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  return w;
}

/** Parses `1.2.3.0/24`, `2001:db8::/32`, or a bare IP (a /32 or /128); undefined if invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const ipText = slash >= 0 ? text.slice(0, slash) : text;
  const words = ipWords(ipText);
  if (!words) return undefined;
  const family = words.length === 1 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || +p > max) return undefined;
    prefix = +p;
  }
  return { family, words, prefix, text };
}

/** Whether the IP (as words) lies in the prefix. */
export function cidrContainsWords(c: Cidr, ip: Uint32Array): boolean {
  if (ip.length !== c.words.length) return false;
  let bits = c.prefix;
  for (let i = 0; i < ip.length && bits > 0; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    if (((ip[i] ^ c.words[i]) & mask) >>> 0 !== 0) return false;
  }
  return true;
}

/**
 * RFC 5952 text of an IPv6 address given as four words: lower-case hex, leading zeros dropped,
 * the first longest run of two or more zero groups written `::` (as Go and WHATWG print it).
 */
export function formatIPv6(words: Uint32Array): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(words[i] >>> 16, words[i] & 0xffff);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    g
      .slice(from, to)
      .map((n) => n.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** The four words of 16 bytes at `at` (an IPv6 address in network order). */
export function wordsFromBytes(buf: Buffer, at: number): Uint32Array {
  return Uint32Array.of(buf.readUInt32BE(at), buf.readUInt32BE(at + 4), buf.readUInt32BE(at + 8), buf.readUInt32BE(at + 12));
}

/** A short list of prefixes (allow/deny lists). Big rule sets use the rule engine's trie instead. */
export class CidrList {
  readonly cidrs: readonly Cidr[];
  constructor(cidrs: readonly Cidr[]) {
    this.cidrs = cidrs;
  }
  /** Parses every entry; throws naming the first invalid one. */
  static parse(texts: readonly string[]): CidrList {
    return new CidrList(
      texts.map((t) => {
        const c = parseCidr(t);
        if (!c) throw new Error(`invalid IP prefix ${JSON.stringify(t)}`);
        return c;
      }),
    );
  }
  get size(): number {
    return this.cidrs.length;
  }
  contains(ip: string): boolean {
    const w = ipWords(ip);
    if (!w) return false;
    for (const c of this.cidrs) if (cidrContainsWords(c, w)) return true;
    return false;
  }
}
