import type { DnsConfig } from '../config/dns.js';
import type { GeoUse } from '../core/geo.js';

/**
 * The geo databases a `dns` section needs, as GeoUses the build reads together with the rules'
 * (host/build.ts pushes them into the load's RuleDeps before the databases are read): the
 * country data for `fallback-filter.geoip` (when there is a fallback), GeoSite.dat for each
 * `geosite:` key of nameserver-policy, fallback-filter.geosite and fake-ip-filter. A category
 * that does not exist is reported at its key's text, like a GEOSITE rule's.
 */
export function dnsGeoUses(c: DnsConfig): GeoUse[] {
  const uses: GeoUse[] = [];
  if (c.fallback.length > 0 && c.fallbackFilter.geoip) {
    uses.push({ kind: 'ip', raw: `dns.fallback-filter.geoip-code: ${c.fallbackFilter.geoipCode}`, bind: () => {} });
  }
  const site = (category: string, raw: string): void => {
    uses.push({ kind: 'site', raw, bind: (geo) => void geo.site(category) });
  };
  if (c.fallback.length > 0) for (const g of c.fallbackFilter.geosite) site(g, `dns.fallback-filter.geosite: ${g}`);
  for (const p of c.nameserverPolicy) if (p.key.startsWith('geosite:')) site(p.key.slice('geosite:'.length), `dns.nameserver-policy: ${p.key}`);
  for (const f of c.fakeIpFilter) if (/^geosite:/i.test(f)) site(f.slice('geosite:'.length), `dns.fake-ip-filter: ${f}`);
  return uses;
}
