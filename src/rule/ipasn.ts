import type { GeoData, GeoUse } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import type { IpRuleOptions } from './ip.js';
import { payloadError } from './rule-error.js';

/**
 * IP-ASN, SRC-IP-ASN: the destination (or source) IP belongs to the autonomous system numbered
 * by the payload (`13335`), as ASN.mmdb says. mihomo compares the number as text, so `AS13335`
 * never matches; it is refused here instead of silently matching nothing.
 */
export class IpAsnRule implements Rule, GeoUse {
  readonly type: 'IPASN' | 'SrcIPASN';
  readonly payload: string;
  readonly needsIp: boolean;
  readonly source: boolean;
  readonly kind = 'asn' as const;
  readonly #asn: number;
  #geo: GeoData | undefined;

  constructor(
    asn: string,
    readonly target: string,
    opts: IpRuleOptions,
    readonly raw: string,
  ) {
    const text = asn.trim();
    if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) throw payloadError(opts.source ? 'SRC-IP-ASN' : 'IP-ASN', asn, 'expected an AS number');
    this.payload = text;
    this.#asn = Number(text);
    this.source = opts.source;
    this.type = opts.source ? 'SrcIPASN' : 'IPASN';
    this.needsIp = !opts.noResolve;
  }

  bind(geo: GeoData): void {
    if (!geo.asn) throw new Error('no ASN database');
    this.#geo = geo;
  }

  match(meta: Metadata, ip: string | undefined): boolean {
    const subject = this.source ? meta.source.host : ip;
    if (subject === undefined || subject === '' || this.#geo === undefined) return false;
    return this.#geo.asn!(subject) === this.#asn;
  }
}
