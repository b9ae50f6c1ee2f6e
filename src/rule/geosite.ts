import type { DomainSet, GeoData, GeoUse } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { ruleHost } from './destination.js';
import { payloadError } from './rule-error.js';

/**
 * GEOSITE: the destination domain is in a GeoSite.dat category (`cn`, `geolocation-!cn`,
 * `google@ads` for the entries carrying an attribute, `!cn` for the complement). The category
 * is bound by the build once GeoSite.dat is loaded; an unknown one is a config error there.
 */
export class GeoSiteRule implements Rule, GeoUse {
  readonly type = 'GeoSite';
  /** the category as written (mihomo prints it so) */
  readonly payload: string;
  readonly needsIp = false;
  readonly kind = 'site' as const;
  #set: DomainSet | undefined;

  constructor(
    category: string,
    readonly target: string,
    readonly raw: string,
  ) {
    const name = category.trim();
    if (name === '' || name === '!') throw payloadError('GEOSITE', category, 'country code could not be empty');
    this.payload = name;
  }

  bind(geo: GeoData): void {
    this.#set = geo.site(this.payload);
  }

  match(meta: Metadata): boolean {
    const host = ruleHost(meta);
    return host !== '' && this.#set !== undefined && this.#set.has(host);
  }
}
