/**
 * The seam between what reads geo databases and rule-sets (geo/, rule-provider/) and what asks
 * them questions (GEOIP / GEOSITE / RULE-SET rules, the DNS fallback-filter and
 * nameserver-policy keys `geosite:` and `rule-set:`, fake-ip-filter). Both sides depend on these
 * interfaces only, so DNS never imports the database readers and the readers never import DNS.
 */

import type { Metadata } from './metadata.js';

/** A set of domains asked one name at a time (a GEOSITE category, a domain rule-set). */
export interface DomainSet {
  /** `domain` lower-case, without a trailing dot. */
  has(domain: string): boolean;
}

/** A set of IP ranges (a GEOIP code, an ipcidr rule-set). */
export interface IpSet {
  /** `ip` as text; IPv4-mapped IPv6 counts as its IPv4 address. */
  has(ip: string): boolean;
}

/** The geo databases of one generation, loaded before the rules that use them compile. */
export interface GeoData {
  /**
   * The lower-case country codes `ip` belongs to (several in the MetaCubeX layout), plus
   * `private` (which mihomo also names `lan`) for LAN, loopback and link-local ranges.
   */
  ipCodes(ip: string): readonly string[];
  /** The autonomous system number of `ip`, undefined when unknown or no ASN database. */
  asn?(ip: string): number | undefined;
  /** A GEOSITE category (`cn`, `geolocation-!cn`, `google@ads`); throws when it does not exist. */
  site(category: string): DomainSet;
  /**
   * The IPs of one code (`cn`, `private`, `!cn`), as GEOIP rules ask: with the mmdb, the codes
   * `ipCodes` gives; in geodata-mode the code's ranges in GeoIP.dat. Throws when geodata-mode
   * has no such code. Absent on a GeoData without country data.
   */
  ipSet?(code: string): IpSet;
  /** `asn` with the organisation, as mihomo shows it (`13335 Cloudflare, Inc.`); undefined when unknown. */
  asnInfo?(ip: string): { readonly asn: string; readonly org: string } | undefined;
}

/**
 * One use of a geo database by a rule (GEOIP, GEOSITE, IP-ASN…) or another consumer (a DNS
 * filter), recorded while the config compiles (rule/parse.ts RuleDeps.geoUses). The build
 * loads every database some use names (downloading a missing one), then binds each use;
 * `bind` throws a message naming what is missing (an unknown category).
 */
export interface GeoUse {
  /** `ip`: the country data (the mmdb, or GeoIP.dat in geodata-mode); `asn`: ASN.mmdb; `site`: GeoSite.dat */
  readonly kind: 'ip' | 'asn' | 'site';
  /** the config line, for errors */
  readonly raw: string;
  bind(geo: GeoData): void;
}

/**
 * One rule-provider as its users see it. `domains()` / `ips()` are live views: a refresh swaps
 * the provider's set and the views answer from the new one. A classical set answers through
 * its rules (a domain as a connection to that name, an IP as one to that address).
 */
export interface RuleSetEntry {
  readonly behavior: 'domain' | 'ipcidr' | 'classical';
  domains(): DomainSet;
  ips(): IpSet;
  /** false until its first load (then it matches nothing) */
  readonly loaded: boolean;
  /** entries in the current set */
  readonly count: number;
  /** the current set may need the destination IP (ipcidr; classical with IP rules) */
  readonly needsIp: boolean;
  /** a connection matches the current set (RULE-SET); `ip` = destination IP when known */
  match(meta: Metadata, ip: string | undefined): boolean;
  /** called by a user that met the set before its first load: logs that once */
  notLoaded(): void;
}

/** The rule-providers of one generation by name, for `rule-set:` keys and RULE-SET rules. */
export interface RuleSets {
  /** undefined when no provider has that name */
  get(name: string): RuleSetEntry | undefined;
}
