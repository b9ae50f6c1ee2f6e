import type { Reader, Response } from 'mmdb-lib';
import { geoIpText } from './ip-key.js';
import { lookup, openMmdb } from './mmdb.js';

/** An IP's autonomous system as mihomo reports it: the number as text and the organisation. */
export interface AsnInfo {
  readonly asn: string;
  readonly org: string;
}

/** The ASN database layouts mihomo reads (by database_type). */
export type AsnLayout = 'geolite2' | 'ipinfo';

/**
 * ASN.mmdb: GeoLite2-ASN (and DB-IP's compatible build) with `autonomous_system_number` /
 * `autonomous_system_organization`, or ipinfo's free ASN database with `asn: "AS13335"` and
 * `name`. Another database_type is refused when it is opened (mihomo warns per lookup and
 * never matches).
 */
export class AsnDb {
  readonly layout: AsnLayout;
  readonly #reader: Reader<Response>;
  #lastIp = '';
  #last: AsnInfo | undefined;

  constructor(data: Buffer) {
    this.#reader = openMmdb(data);
    const type = this.#reader.metadata.databaseType;
    if (type === 'GeoLite2-ASN' || type === 'DBIP-ASN-Lite (compat=GeoLite2-ASN)') this.layout = 'geolite2';
    else if (type === 'ipinfo generic_asn_free.mmdb') this.layout = 'ipinfo';
    else throw new Error(`Unsupported ASN type: ${type}`);
  }

  /** The AS of `ip`, undefined when unknown. */
  lookup(ip: string): AsnInfo | undefined {
    if (ip === this.#lastIp) return this.#last;
    const text = geoIpText(ip);
    const info = text === undefined ? undefined : this.#decode(lookup(this.#reader, text));
    this.#lastIp = ip;
    this.#last = info;
    return info;
  }

  #decode(record: unknown): AsnInfo | undefined {
    if (record === null || typeof record !== 'object') return undefined;
    const r = record as Record<string, unknown>;
    if (this.layout === 'geolite2') {
      const n = r.autonomous_system_number;
      if (typeof n !== 'number' && typeof n !== 'bigint') return undefined;
      const org = r.autonomous_system_organization;
      return { asn: String(n), org: typeof org === 'string' ? org : '' };
    }
    const asn = r.asn;
    if (typeof asn !== 'string' || asn.length < 3) return undefined;
    const name = r.name;
    return { asn: asn.slice(2), org: typeof name === 'string' ? name : '' };
  }
}
