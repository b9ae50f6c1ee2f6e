import type { Reader, Response } from 'mmdb-lib';
import { geoIpText } from './ip-key.js';
import { lookup, openMmdb } from './mmdb.js';

/** The layouts of a country mmdb, told apart by its metadata's database_type as mihomo does. */
export type CountryLayout = 'maxmind' | 'sing' | 'meta';

const NONE: readonly string[] = Object.freeze([]);

/**
 * A country database (geoip.metadb / Country.mmdb / geoip.db): IP → lower-case codes.
 * - `maxmind` (GeoLite2-Country and look-alikes): `{country: {iso_code}}`, one code;
 * - `sing` (database_type `sing-geoip`): the record is the code string;
 * - `meta` (`Meta-geoip0`, MetaCubeX's geoip.metadb): a code string or an array of codes, so
 *   one IP can carry several (`cn` and `private`, a cloud's codes…).
 * The last answer is kept: the rules of one connection ask about one IP several times.
 */
export class CountryDb {
  readonly layout: CountryLayout;
  readonly #reader: Reader<Response>;
  #lastIp = '';
  #lastCodes: readonly string[] = NONE;

  constructor(data: Buffer) {
    this.#reader = openMmdb(data);
    const type = this.#reader.metadata.databaseType;
    this.layout = type === 'sing-geoip' ? 'sing' : type === 'Meta-geoip0' ? 'meta' : 'maxmind';
  }

  get databaseType(): string {
    return this.#reader.metadata.databaseType;
  }

  /** The codes of `ip` (text), lower case; empty when the database has none or `ip` is not an IP. */
  codes(ip: string): readonly string[] {
    if (ip === this.#lastIp) return this.#lastCodes;
    const text = geoIpText(ip);
    const codes = text === undefined ? NONE : this.#decode(lookup(this.#reader, text));
    this.#lastIp = ip;
    this.#lastCodes = codes;
    return codes;
  }

  #decode(record: unknown): readonly string[] {
    if (record === null || record === undefined) return NONE;
    if (this.layout === 'maxmind') {
      const iso = (record as { country?: { iso_code?: unknown } }).country?.iso_code;
      return typeof iso === 'string' && iso !== '' ? Object.freeze([iso.toLowerCase()]) : NONE;
    }
    if (typeof record === 'string') return record === '' ? NONE : Object.freeze([record.toLowerCase()]);
    if (this.layout === 'meta' && Array.isArray(record)) {
      return Object.freeze(record.filter((c): c is string => typeof c === 'string' && c !== '').map((c) => c.toLowerCase()));
    }
    return NONE;
  }
}
