import type { GeoData, GeoUse, IpSet } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { isLanIp } from '../geo/lan.js';
import type { IpRuleOptions } from './ip.js';
import { payloadError } from './rule-error.js';

const LAN_SET: IpSet = { has: isLanIp };

/**
 * GEOIP, SRC-GEOIP: the destination (or with `src`, the source) IP carries the country code.
 * `lan` is answered without a database (LAN, loopback, link-local, multicast, as mihomo);
 * every other code is looked up in the geo data the build binds before the generation routes
 * (the mmdb, or GeoIP.dat in geodata-mode). Unbound, it matches nothing.
 */
export class GeoIpRule implements Rule, GeoUse {
  readonly type: 'GeoIP' | 'SrcGeoIP';
  /** the code in lower case, as mihomo prints it */
  readonly payload: string;
  readonly needsIp: boolean;
  readonly source: boolean;
  readonly kind = 'ip' as const;
  #set: IpSet | undefined;

  constructor(
    code: string,
    readonly target: string,
    opts: IpRuleOptions,
    readonly raw: string,
  ) {
    const payload = code.trim().toLowerCase();
    if (payload === '' || payload === '!') throw payloadError('GEOIP', code, 'country code could not be empty');
    this.payload = payload;
    this.source = opts.source;
    this.type = opts.source ? 'SrcGeoIP' : 'GeoIP';
    this.needsIp = !opts.noResolve;
    if (payload === 'lan') this.#set = LAN_SET;
  }

  /** whether the rule needs a database (every code but `lan`) */
  get needsDatabase(): boolean {
    return this.payload !== 'lan';
  }

  bind(geo: GeoData): void {
    if (!this.needsDatabase) return;
    const code = this.payload;
    this.#set = geo.ipSet ? geo.ipSet(code) : { has: (ip) => geo.ipCodes(ip).includes(code) };
  }

  match(meta: Metadata, ip: string | undefined): boolean {
    const subject = this.source ? meta.source.host : ip;
    return subject !== undefined && subject !== '' && this.#set !== undefined && this.#set.has(subject);
  }
}
