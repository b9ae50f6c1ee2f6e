import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GeoIPListType, GeoSiteListType } from '../../../src/geo/dat-schema.js';

const WRITER = fileURLToPath(new URL('./mmdb-writer.pl', import.meta.url));

/** A MaxMind DB written by Debian's libmaxmind-db-writer-perl (see mmdb-writer.pl). */
export interface MmdbSpec {
  readonly database_type: string;
  readonly ip_version?: 4 | 6;
  readonly record_size?: 24 | 28 | 32;
  readonly root_data_type?: string;
  readonly types?: Readonly<Record<string, string | readonly string[]>>;
  readonly networks: readonly (readonly [string, unknown])[];
}

/** Writes the database to `out` with the Perl writer. */
export function writeMmdb(out: string, spec: MmdbSpec): void {
  execFileSync('perl', [WRITER, out], { input: JSON.stringify(spec), stdio: ['pipe', 'inherit', 'inherit'] });
}

/** MetaCubeX's geoip.metadb layout: each network carries one code or an array of codes. */
export function metaSpec(networks: readonly (readonly [string, string | readonly string[]])[]): MmdbSpec {
  const multi = networks.some(([, c]) => Array.isArray(c));
  // the Perl writer takes one root type; arrays of one code read the same as one code
  return {
    database_type: 'Meta-geoip0',
    root_data_type: multi ? 'array' : 'utf8_string',
    networks: multi ? networks.map(([n, c]) => [n, Array.isArray(c) ? c : [c]] as const) : networks,
  };
}

/** GeoLite2-Country layout: `{country: {iso_code}}`. */
export function maxmindSpec(networks: readonly (readonly [string, string])[]): MmdbSpec {
  return {
    database_type: 'GeoLite2-Country',
    types: { country: 'map', iso_code: 'utf8_string', geoname_id: 'uint32' },
    networks: networks.map(([n, iso]) => [n, { country: { iso_code: iso, geoname_id: 1 } }] as const),
  };
}

/** sing-geoip layout: the record is the code. */
export function singSpec(networks: readonly (readonly [string, string])[]): MmdbSpec {
  return { database_type: 'sing-geoip', root_data_type: 'utf8_string', networks };
}

/** GeoLite2-ASN layout. */
export function geoliteAsnSpec(networks: readonly (readonly [string, number, string])[]): MmdbSpec {
  return {
    database_type: 'GeoLite2-ASN',
    types: { autonomous_system_number: 'uint32', autonomous_system_organization: 'utf8_string' },
    networks: networks.map(([n, asn, org]) => [n, { autonomous_system_number: asn, autonomous_system_organization: org }] as const),
  };
}

/** ipinfo's free ASN layout: `asn: "AS13335"`, `name`. */
export function ipinfoAsnSpec(networks: readonly (readonly [string, number, string])[]): MmdbSpec {
  return {
    database_type: 'ipinfo generic_asn_free.mmdb',
    types: { asn: 'utf8_string', name: 'utf8_string', domain: 'utf8_string' },
    networks: networks.map(([n, asn, org]) => [n, { asn: `AS${asn}`, name: org, domain: 'example.com' }] as const),
  };
}

/** A GeoSite.dat domain: type 0 keyword, 1 regex, 2 domain (and subdomains), 3 full. */
export interface SiteEntry {
  readonly type: 0 | 1 | 2 | 3;
  readonly value: string;
  readonly attrs?: readonly string[];
}

/** Encodes a GeoSite.dat with protobufjs. */
export function encodeGeoSite(sites: Readonly<Record<string, readonly SiteEntry[]>>): Buffer {
  const entry = Object.entries(sites).map(([code, domains]) => ({
    countryCode: code,
    domain: domains.map((d) => ({ type: d.type, value: d.value, attribute: (d.attrs ?? []).map((key) => ({ key, boolValue: true })) })),
  }));
  return Buffer.from(GeoSiteListType.encode(GeoSiteListType.fromObject({ entry })).finish());
}

/** Encodes a GeoIP.dat with protobufjs; CIDRs as text. */
export function encodeGeoIp(codes: Readonly<Record<string, readonly string[] | { readonly cidrs: readonly string[]; readonly reverse: boolean }>>): Buffer {
  const entry = Object.entries(codes).map(([code, v]) => {
    const list = Array.isArray(v) ? v : (v as { cidrs: readonly string[] }).cidrs;
    const reverse = Array.isArray(v) ? false : (v as { reverse: boolean }).reverse;
    return { countryCode: code.toUpperCase(), cidr: list.map(cidrBytes), reverseMatch: reverse };
  });
  return Buffer.from(GeoIPListType.encode(GeoIPListType.fromObject({ entry })).finish());
}

function cidrBytes(text: string): { ip: Buffer; prefix: number } {
  const [ip, bits] = text.split('/');
  if (!ip.includes(':')) return { ip: Buffer.from(ip.split('.').map(Number)), prefix: Number(bits ?? 32) };
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16), i * 2));
  return { ip: buf, prefix: Number(bits ?? 128) };
}
