/**
 * The geo lookups `npm run bench:rules` times (issue 15): a GEOSITE category and a GEOIP code
 * built the way a generation builds them, from a GeoSite.dat / GeoIP.dat encoded with
 * protobufjs, read by geo/dat-file.ts and turned into the sets the rules ask (geo/site-set.ts:
 * hashed labels; geo/ip-set.ts: sorted ranges). `node --import tsx bench/geo-sets.ts` prints
 * load time, added heap and per-lookup latency for 1,000,000 domains and 200,000 CIDRs.
 */
import type { DomainSet, IpSet } from '../src/core/geo.js';
import { GeoIPListType, GeoSiteListType } from '../src/geo/dat-schema.js';
import { DatFile } from '../src/geo/dat-file.js';
import { GeoDatabases } from '../src/geo/geo-data.js';

/** A GeoSite.dat of one category `bench` holding `domains` (type 2 unless `types` says: the domain and its subdomains; 3: the name only). */
export function encodeSiteDat(domains: readonly string[], types?: readonly number[]): Buffer {
  const entry = [{ countryCode: 'BENCH', domain: domains.map((value, i) => ({ type: types?.[i] ?? 2, value })) }];
  return Buffer.from(GeoSiteListType.encode(GeoSiteListType.fromObject({ entry })).finish());
}

/** A GeoIP.dat of one code `bench` holding `cidrs` (`a.b.c.d/n` or IPv6 `x:y::/n`). */
export function encodeIpDat(cidrs: readonly string[]): Buffer {
  const cidr = cidrs.map((t) => {
    const [ip, bits] = t.split('/');
    if (!ip.includes(':')) return { ip: Buffer.from(ip.split('.').map(Number)), prefix: Number(bits) };
    const [h, tl] = ip.split('::');
    const head = h ? h.split(':') : [];
    const tail = tl ? tl.split(':') : [];
    const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return { ip: b, prefix: Number(bits) };
  });
  return Buffer.from(GeoIPListType.encode(GeoIPListType.fromObject({ entry: [{ countryCode: 'BENCH', cidr }] })).finish());
}

/** The GEOSITE,bench set from the file's bytes, as a generation builds it (index, decode, hash). */
export function loadGeoSite(dat: Buffer): DomainSet {
  return new GeoDatabases({ geodataMode: false, geosite: new DatFile(dat) }).site('bench');
}

/** The GEOIP,bench set (geodata-mode) from the file's bytes. */
export function loadGeoIp(dat: Buffer): IpSet {
  return new GeoDatabases({ geodataMode: true, geoip: new DatFile(dat) }).ipSet('bench');
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** p50 / p99 of single lookups in ns (each timed alone with hrtime.bigint, whose own cost is included). */
function latency(ask: (i: number) => boolean, n: number): { p50: number; p99: number } {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    ask(i);
    t[i] = Number(process.hrtime.bigint() - a);
  }
  t.sort();
  return { p50: pct(t, 0.5), p99: pct(t, 0.99) };
}

function main(): void {
  const D = 1_000_000;
  const C = 200_000;
  const domains = Array.from({ length: D }, (_, i) => `d${i}.s${i % 977}.example`);
  const siteDat = encodeSiteDat(domains);
  global.gc?.();
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  let heap = used();
  let t0 = performance.now();
  const site = loadGeoSite(siteDat);
  const siteMs = performance.now() - t0;
  global.gc?.();
  const siteMb = (used() - heap) / 1e6;
  const hitNames = Array.from({ length: 200_000 }, (_, i) => `www.d${(i * 7919) % D}.s${((i * 7919) % D) % 977}.example`);
  const missNames = Array.from({ length: 200_000 }, (_, i) => `www.x${i}.other.test`);
  const hits = latency((i) => site.has(hitNames[i]), hitNames.length);
  const misses = latency((i) => site.has(missNames[i]), missNames.length);
  console.log(`GEOSITE ${D} domains: load ${siteMs.toFixed(0)} ms, +${siteMb.toFixed(0)} MB heap; hit p50 ${hits.p50} ns p99 ${hits.p99} ns; miss p50 ${misses.p50} ns p99 ${misses.p99} ns`);

  const cidrs = Array.from({ length: C }, (_, i) => {
    const x = (i * 2654435761) >>> 0;
    return i % 4 === 3 ? `2001:${(x >>> 16).toString(16)}:${(x & 0xffff).toString(16)}::/48` : `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.0/24`;
  });
  const ipDat = encodeIpDat(cidrs);
  global.gc?.();
  heap = used();
  t0 = performance.now();
  const ips = loadGeoIp(ipDat);
  const ipMs = performance.now() - t0;
  global.gc?.();
  const ipMb = (used() - heap) / 1e6;
  const v4 = cidrs.filter((c) => !c.includes(':')).map((c) => c.replace('.0/24', '.9'));
  const ipHits = latency((i) => ips.has(v4[i % v4.length]), 200_000);
  const missIps = Array.from({ length: 200_000 }, (_, i) => `10.${(i >>> 8) & 255}.${i & 255}.1`);
  const ipMiss = latency((i) => ips.has(missIps[i]), missIps.length);
  console.log(`GEOIP ${C} CIDRs: load ${ipMs.toFixed(0)} ms, +${ipMb.toFixed(0)} MB heap; hit p50 ${ipHits.p50} ns p99 ${ipHits.p99} ns; miss p50 ${ipMiss.p50} ns p99 ${ipMiss.p99} ns`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
