import { isIP } from 'node:net';
import type { Metadata } from '../../core/metadata.js';

const MASK = (1n << 64n) - 1n;

/** 64-bit FNV-1a of a string's UTF-8 bytes (a stable key hash; mihomo's maphash is seeded per process). */
export function hash64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & MASK;
  }
  return h;
}

/** Lamping and Veach's jump consistent hash: a bucket in [0, buckets) that moves little when buckets change. */
export function jumpHash(key: bigint, buckets: number): number {
  let b = -1;
  let j = 0;
  let k = key & MASK;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK;
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return Math.max(0, b);
}

// second-level labels under which registrations sit one level deeper (co.uk, com.cn…): the
// common cases of the public suffix list, which we do not ship
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'ne', 'or', 'go']);

/**
 * mihomo's load-balance key: an IP destination as itself, a domain as its registrable part
 * (eTLD+1, approximated without the full public suffix list), so every host of one site lands
 * on one proxy.
 */
export function destinationKey(meta: Metadata | undefined): string {
  if (!meta) return '';
  const host = meta.destination.host;
  if (host === '' || isIP(host) !== 0) return host;
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length <= 2) return labels.join('.');
  const tld = labels[labels.length - 1];
  const sld = labels[labels.length - 2];
  const take = tld.length === 2 && SECOND_LEVEL.has(sld) ? 3 : 2;
  return labels.slice(-take).join('.');
}
