import { protobuf } from './dat-schema.js';

/**
 * A v2ray geo data file (GeoIP.dat or GeoSite.dat) held in memory and indexed by code without
 * decoding its entries: opening walks the top-level list with protobufjs's Reader and reads only
 * each entry's code, so a 10 MB GeoSite.dat costs one pass and the categories the config names
 * are walked when asked, field by field with the same Reader (a full decode of a million-domain
 * category builds a million message objects and takes twice as long). mihomo's memconservative
 * loader also reads only the entry it needs.
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

  /**
   * Walks a GeoSite category's domains with protobufjs's Reader, building no message objects
   * (a million-domain category is read in one pass): `each(type, value, attrs)` gets the
   * attribute keys only when `withAttrs`. False when the file has no such code. Throws on a
   * damaged entry.
   */
  eachDomain(code: string, withAttrs: boolean, each: (type: number, value: string, attrs: readonly string[] | undefined) => void): boolean {
    const bytes = this.#entries.get(code.toLowerCase());
    if (bytes === undefined) return false;
    const r = protobuf.Reader.create(bytes);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag !== ((2 << 3) | 2)) {
        r.skipType(tag & 7);
        continue;
      }
      const end = r.uint32() + r.pos;
      if (end > r.len) throw new Error('invalid geodata file: a domain runs past its entry');
      let type = 0;
      let value = '';
      let attrs: string[] | undefined;
      while (r.pos < end) {
        const t = r.uint32();
        if (t === ((1 << 3) | 0)) type = r.int32();
        else if (t === ((2 << 3) | 2)) value = r.string();
        else if (t === ((3 << 3) | 2) && withAttrs) {
          const aEnd = r.uint32() + r.pos;
          while (r.pos < aEnd) {
            const at = r.uint32();
            if (at === ((1 << 3) | 2)) (attrs ??= []).push(r.string());
            else r.skipType(at & 7);
          }
        } else r.skipType(t & 7);
      }
      each(type, value, attrs);
    }
    return true;
  }

  /**
   * Walks a GeoIP code's CIDRs with protobufjs's Reader (no message objects); returns the
   * reverse-match flag, or undefined when the file has no such code. Throws on a damaged entry.
   */
  eachCidr(code: string, each: (ip: Uint8Array, prefix: number) => void): { reverse: boolean } | undefined {
    const bytes = this.#entries.get(code.toLowerCase());
    if (bytes === undefined) return undefined;
    const r = protobuf.Reader.create(bytes);
    let reverse = false;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === ((3 << 3) | 0)) reverse = r.bool();
      else if (tag === ((2 << 3) | 2)) {
        const end = r.uint32() + r.pos;
        if (end > r.len) throw new Error('invalid geodata file: a CIDR runs past its entry');
        let ip: Uint8Array = new Uint8Array(0);
        let prefix = 0;
        while (r.pos < end) {
          const t = r.uint32();
          if (t === ((1 << 3) | 2)) ip = r.bytes();
          else if (t === ((2 << 3) | 0)) prefix = r.uint32();
          else r.skipType(t & 7);
        }
        each(ip, prefix);
      } else r.skipType(tag & 7);
    }
    return { reverse };
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
