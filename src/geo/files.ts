import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The four geo databases, by what they answer. */
export type GeoKind = 'mmdb' | 'asn' | 'geoip' | 'geosite';

/**
 * The file names mihomo looks for in its home directory, first match wins, compared without
 * case; the first name is also the one a download is written to. `mmdb` is the country
 * database of the default (non geodata) mode.
 */
export const GEO_FILE_NAMES: Readonly<Record<GeoKind, readonly string[]>> = {
  mmdb: ['geoip.metadb', 'Country.mmdb', 'geoip.db'],
  asn: ['ASN.mmdb'],
  geoip: ['GeoIP.dat'],
  geosite: ['GeoSite.dat'],
};

/** What mihomo's logs and errors call each database. */
export const GEO_LABELS: Readonly<Record<GeoKind, string>> = {
  mmdb: 'MMDB',
  asn: 'ASN',
  geoip: 'GeoIP',
  geosite: 'GeoSite',
};

/**
 * The path of a database in `homeDir`: an existing file under one of its names (any case, as
 * mihomo's directory scan; mihomo takes the first the directory lists, here the first name of
 * the list wins), else the default name, where a download goes.
 */
export function geoPath(homeDir: string, kind: GeoKind): string {
  const names = GEO_FILE_NAMES[kind];
  let entries: string[] = [];
  try {
    entries = readdirSync(homeDir);
  } catch {
    // no directory yet: the download creates the file under its default name
  }
  const lower = new Map(entries.map((e) => [e.toLowerCase(), e]));
  for (const n of names) {
    const found = lower.get(n.toLowerCase());
    if (found !== undefined) return join(homeDir, found);
  }
  return join(homeDir, names[0]);
}
