import { GeoIPType, GeoSiteType, protobuf, type DatCidr, type DatDomain } from './dat-schema.js';

/**
 * A v2ray geo data file (GeoIP.dat or GeoSite.dat) held in memory and indexed by code without
 * decoding its entries: opening walks the top-level list with protobufjs's Reader and reads only
 * each entry's code, so a 10 MB GeoSite.dat costs one pass and the categories the config names
 * are decoded when asked (mihomo's memconservative loader does the same on disk).
 */
export class DatFile {
  /** lower-case code → the entry's encoded bytes (first entry wins, as mihomo's loaders) */
  readonly #entries = new Map<string, Uint8Array>();

  /** Throws an Error naming what is wrong when `data` is not a whole geo data list. */
  constructor(data: Uint8Array) {
    try {
      const r = protobuf.Reader.create(data);
      while (r.pos < r.len) {
        const tag = r.uint32();
        if (tag >>> 3 !== 1 || (tag & 7) !== 2) {
          r.skipType(tag & 7);
          continue;
        }
        const entry = r.bytes();
        const code = entryCode(entry);
        if (code === undefined) throw new Error('an entry has no code');
        const key = code.toLowerCase();
        if (!this.#entries.has(key)) this.#entries.set(key, entry);
      }
    } catch (err) {
      throw new Error(`invalid geodata file: ${(err as Error)?.message ?? String(err)}`);
    }
    if (this.#entries.size === 0) throw new Error('invalid geodata file: no entries');
  }

  /** how many codes the file holds */
  get size(): number {
    return this.#entries.size;
  }

  /** the codes, lower case, in file order */
  codes(): string[] {
    return [...this.#entries.keys()];
  }

  has(code: string): boolean {
    return this.#entries.has(code.toLowerCase());
  }

  /** The domains of a GeoSite category; undefined when the file has no such code. */
  domains(code: string): DatDomain[] | undefined {
    const bytes = this.#entries.get(code.toLowerCase());
    if (bytes === undefined) return undefined;
    const site = GeoSiteType.toObject(GeoSiteType.decode(bytes), { defaults: true }) as { domain: DatDomain[] };
    return site.domain;
  }

  /** The CIDRs of a GeoIP code and its reverse-match flag; undefined when the file has no such code. */
  cidrs(code: string): { cidrs: DatCidr[]; reverse: boolean } | undefined {
    const bytes = this.#entries.get(code.toLowerCase());
    if (bytes === undefined) return undefined;
    const ip = GeoIPType.toObject(GeoIPType.decode(bytes), { defaults: true }) as { cidr: DatCidr[]; reverseMatch: boolean };
    return { cidrs: ip.cidr, reverse: ip.reverseMatch };
  }
}

/** An entry's field 1 (country_code) read with protobufjs's Reader, the rest skipped. */
function entryCode(entry: Uint8Array): string | undefined {
  const r = protobuf.Reader.create(entry);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 2) return r.string(); // the code comes first in every real file
    r.skipType(tag & 7);
  }
  return undefined;
}
