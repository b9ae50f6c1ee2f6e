import type { GeoData, GeoUse } from '../core/geo.js';

/**
 * A GeoUse for a consumer that is not a rule (the DNS side: `fallback-filter.geoip-code`,
 * `geosite:` keys of nameserver-policy): pushed into the load's `RuleDeps.geoUses` before the
 * build reads the databases, its `bind` gets the loaded GeoData (and may throw a message naming
 * what is missing, reported at `raw`'s line).
 */
export function geoUse(kind: GeoUse['kind'], raw: string, bind: (geo: GeoData) => void): GeoUse {
  return { kind, raw, bind };
}
