import { cidrContainsWords, parseCidr, type Cidr } from '../common/cidr.js';
import { geoWords } from './ip-key.js';

/**
 * The ranges mihomo's `GEOIP,LAN` matches without any database (Go's netip: IsPrivate,
 * IsUnspecified, IsLoopback, IsMulticast, IsLinkLocalUnicast).
 */
const LAN: readonly Cidr[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', // private
  '0.0.0.0/32', '::/128', // unspecified
  '127.0.0.0/8', '::1/128', // loopback
  '224.0.0.0/4', 'ff00::/8', // multicast
  '169.254.0.0/16', 'fe80::/10', // link-local unicast
].map((t) => parseCidr(t)!);

/** Whether `ip` (text; IPv4-mapped counts as IPv4) is a LAN, loopback, link-local or multicast address. */
export function isLanIp(ip: string): boolean {
  const w = geoWords(ip);
  if (w === undefined) return false;
  for (const c of LAN) if (cidrContainsWords(c, w)) return true;
  return false;
}
