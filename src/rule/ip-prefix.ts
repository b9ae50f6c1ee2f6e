import { isIP } from 'node:net';
import { formatIPv6, ipWords, type Cidr } from '../common/cidr.js';

/** An IP prefix as an IP rule keeps it. */
export interface ParsedPrefix {
  /** for matching: an IPv4-mapped IPv6 prefix of /96 or longer becomes the IPv4 prefix it covers */
  readonly cidr: Cidr;
  /** the address part in full (IPv6: four words, IPv4-mapped kept mapped) and the length as written */
  readonly words: Uint32Array;
  readonly bits: number;
  /** true when the address is IPv4-mapped IPv6 (`::ffff:a.b.c.d`) */
  readonly mapped: boolean;
  /** the prefix printed as Go's netip.Prefix prints it, which is what mihomo shows as payload */
  readonly canonical: string;
}

/**
 * Parses `addr/bits` with the strictness of Go's netip.ParsePrefix, so a payload accepted here
 * is accepted by mihomo too: the length is required, decimal without leading zeros, and
 * zones are refused. Returns the reason as a string when invalid.
 */
export function parsePrefix(text: string): ParsedPrefix | string {
  const slash = text.indexOf('/');
  if (slash < 0) return 'missing the prefix length (like 10.0.0.0/8)';
  const addr = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  if (addr.includes('%')) return 'an IPv6 zone is not allowed in a prefix';
  const family = isIP(addr);
  if (family === 0) return `${addr === '' ? 'empty address' : 'not an IP address'}`;
  if (!/^(?:0|[1-9]\d{0,2})$/.test(bitsText)) return 'the prefix length must be a decimal number';
  const bits = Number(bitsText);
  const max = family === 4 ? 32 : 128;
  if (bits > max) return `the prefix length must be 0-${max}`;
  const raw = ipWords(addr);
  if (!raw) return 'not an IP address';
  if (family === 4) {
    const cidr: Cidr = { family: 4, words: raw, prefix: bits, text };
    return { cidr, words: raw, bits, mapped: false, canonical: `${addr}/${bits}` };
  }
  // ipWords unmaps ::ffff:a.b.c.d; put the mapped words back to keep the address as written.
  const words = raw.length === 1 ? Uint32Array.of(0, 0, 0xffff, raw[0]) : raw;
  const mapped = words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
  const canonical = `${mapped ? `::ffff:${formatIPv4(words[3])}` : formatIPv6(words)}/${bits}`;
  // Matching sees unmapped IPs, so a mapped prefix only matches anything as IPv4.
  const cidr: Cidr =
    mapped && bits >= 96
      ? { family: 4, words: Uint32Array.of(words[3]), prefix: bits - 96, text }
      : { family: 6, words, prefix: bits, text };
  return { cidr, words, bits, mapped, canonical };
}

/** Dotted decimal of one 32-bit word. */
export function formatIPv4(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

