import type { DomainSet, GeoData, IpSet } from '../core/geo.js';
import type { AsnDb, AsnInfo } from './asn.js';
import type { CountryDb } from './country.js';
import type { DatFile } from './dat-file.js';
import type { GeoKind } from './files.js';
import { CidrSet } from './ip-set.js';
import { isLanIp } from './lan.js';
import { NotSiteSet, SiteSet } from './site-set.js';

/** The databases one generation loaded (any of them may be absent: no rule needed it). */
export interface GeoParts {
  /** geodata-mode: GEOIP reads GeoIP.dat instead of the mmdb */
  readonly geodataMode: boolean;
  readonly country?: CountryDb;
  readonly asn?: AsnDb;
  readonly geoip?: DatFile;
  readonly geosite?: DatFile;
  /** the files' names, for messages */
  readonly names?: { readonly geoip?: string; readonly geosite?: string };
  /** the databases loaded, for the updater (mihomo updates the ones its rules enabled) */
  readonly kinds?: readonly GeoKind[];
  /** told once per category built (mihomo: `Load GeoSite rule: cn`) */
  readonly onLoad?: (what: 'GeoSite' | 'GeoIP', name: string, count: number) => void;
}

const PRIVATE = 'private';

/**
 * GeoData over the databases of one generation. Sets are built once per category and shared by
 * every rule (and the DNS side) that names it.
 */
export class GeoDatabases implements GeoData {
  readonly #p: GeoParts;
  readonly #sites = new Map<string, DomainSet>();
  readonly #ipSets = new Map<string, IpSet>();

  constructor(parts: GeoParts) {
    this.#p = parts;
  }

  /** the databases this generation loaded */
  get kinds(): readonly GeoKind[] {
    return this.#p.kinds ?? [];
  }

  get geodataMode(): boolean {
    return this.#p.geodataMode;
  }

  ipCodes(ip: string): readonly string[] {
    let codes: readonly string[];
    if (this.#p.geodataMode) {
      // GeoIP.dat is a list per code: only the codes some use asked for are known
      const found: string[] = [];
      for (const [code, set] of this.#ipSets) if (!code.startsWith('!') && set.has(ip)) found.push(code);
      codes = found;
    } else codes = this.#p.country?.codes(ip) ?? [];
    if (!codes.includes(PRIVATE) && isLanIp(ip)) return [...codes, PRIVATE];
    return codes;
  }

  asn(ip: string): number | undefined {
    const info = this.#p.asn?.lookup(ip);
    if (info === undefined) return undefined;
    const n = Number(info.asn);
    return Number.isInteger(n) ? n : undefined;
  }

  asnInfo(ip: string): AsnInfo | undefined {
    return this.#p.asn?.lookup(ip);
  }

  /** whether an ASN database is loaded */
  get hasAsn(): boolean {
    return this.#p.asn !== undefined;
  }

  ipSet(code: string): IpSet {
    const key = code.trim().toLowerCase();
    const cached = this.#ipSets.get(key);
    if (cached) return cached;
    const not = key.startsWith('!');
    const name = not ? key.slice(1) : key;
    if (name === '') throw new Error('country code could not be empty');
    let set: IpSet;
    if (this.#p.geodataMode) {
      const file = this.#p.geoip;
      if (!file) throw new Error('GeoIP.dat is not loaded');
      const ranges = new CidrSet();
      const entry = file.eachCidr(name, (ip, prefix) => void ranges.add(ip, prefix));
      if (!entry) throw new Error(`country ${name} not found in ${this.#p.names?.geoip ?? 'GeoIP.dat'}`);
      const cidrs = ranges.seal().withReverse(entry.reverse !== not);
      this.#p.onLoad?.('GeoIP', name, cidrs.count);
      set = cidrs;
    } else {
      if (!this.#p.country) throw new Error('the MMDB is not loaded');
      set = not ? { has: (ip) => ip !== '' && !this.ipCodes(ip).includes(name) } : { has: (ip) => this.ipCodes(ip).includes(name) };
    }
    this.#ipSets.set(key, set);
    return set;
  }

  site(category: string): DomainSet {
    let text = category.trim();
    const not = text.startsWith('!');
    if (not) text = text.slice(1);
    text = text.toLowerCase();
    const [list, ...attrParts] = text.split('@');
    const listName = list.trim();
    if (listName === '') throw new Error(`empty listname in rule: ${category}`);
    const attrs = [...new Set(attrParts.map((a) => a.trim()).filter((a) => a !== ''))];
    const key = attrs.length > 0 ? `${listName}@${attrs.join(',')}` : listName;
    let set = this.#sites.get(key);
    if (!set) {
      const file = this.#p.geosite;
      if (!file) throw new Error('GeoSite.dat is not loaded');
      const s = new SiteSet();
      const found = file.eachDomain(listName, attrs.length > 0, (type, value, keys) => {
        if (attrs.length === 0 || attrs.every((a) => keys?.some((k) => k.toLowerCase() === a))) s.add(type, value);
      });
      if (!found) throw new Error(`list ${listName} not found in ${this.#p.names?.geosite ?? 'GeoSite.dat'}`);
      this.#p.onLoad?.('GeoSite', key, s.count);
      set = s;
      this.#sites.set(key, set);
    }
    return not ? new NotSiteSet(set) : set;
  }
}
