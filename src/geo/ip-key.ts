import { ipWords } from '../common/cidr.js';

/**
 * The words of an IP as every geo lookup sees it: IPv4 as one word, IPv6 as four, and an
 * IPv4-mapped IPv6 address (`::ffff:1.2.3.4` or `::ffff:102:304`) as its IPv4 word, so a
 * dual-stack socket's source finds the same country as the plain IPv4 address.
 */
export function geoWords(ip: string): Uint32Array | undefined {
  const w = ipWords(ip);
  if (w === undefined || w.length === 1) return w;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return Uint32Array.of(w[3]);
  return w;
}

/** `geoWords` as the text mmdb readers take: dotted IPv4, or the IPv6 text as given. */
export function geoIpText(ip: string): string | undefined {
  const w = geoWords(ip);
  if (w === undefined) return undefined;
  if (w.length === 1) return `${w[0] >>> 24}.${(w[0] >>> 16) & 255}.${(w[0] >>> 8) & 255}.${w[0] & 255}`;
  const zone = ip.indexOf('%');
  return zone >= 0 ? ip.slice(0, zone) : ip;
}
