import { z } from 'zod';
import type { Issues } from './issues.js';
import { boolLike, intLike, textLike } from './values.js';

/** mihomo's default download addresses of the four databases (geox-url). */
export const DEFAULT_GEOX_URL = {
  geoip: 'https://github.com/MetaCubeX/meta-rules-dat/releases/download/latest/geoip.dat',
  mmdb: 'https://github.com/MetaCubeX/meta-rules-dat/releases/download/latest/geoip.metadb',
  asn: 'https://github.com/MetaCubeX/meta-rules-dat/releases/download/latest/GeoLite2-ASN.mmdb',
  geosite: 'https://github.com/MetaCubeX/meta-rules-dat/releases/download/latest/geosite.dat',
} as const;

const url = textLike.pipe(
  z.string().refine((s) => s === '' || /^https?:\/\//i.test(s.trim()), { message: 'expected an http(s) URL' }),
);

/** The top-level geo keys, mihomo's names and defaults. */
const geoSchema = z
  .object({
    'geodata-mode': boolLike.default(false),
    // memconservative and standard differ in memory only; clash-ts indexes a .dat file once and
    // decodes the categories a config names, whichever is asked
    'geodata-loader': textLike
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(['memconservative', 'memc', 'standard']))
      .default('memconservative'),
    // succinct and mph are two tries of the same sets; one hashed set answers both
    'geosite-matcher': textLike
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(['succinct', 'mph', 'hybrid']))
      .default('succinct'),
    'geo-auto-update': boolLike.default(false),
    /** hours */
    'geo-update-interval': intLike.default(24),
    'geox-url': z
      .looseObject({ geoip: url.optional(), mmdb: url.optional(), asn: url.optional(), geosite: url.optional() })
      .default({}),
  })
  .transform((r) => ({
    geodataMode: r['geodata-mode'],
    geodataLoader: r['geodata-loader'] === 'memc' ? 'memconservative' : r['geodata-loader'],
    geositeMatcher: r['geosite-matcher'] === 'hybrid' ? 'mph' : r['geosite-matcher'],
    autoUpdate: r['geo-auto-update'],
    updateIntervalHours: r['geo-update-interval'],
    url: {
      geoip: r['geox-url'].geoip?.trim() || DEFAULT_GEOX_URL.geoip,
      mmdb: r['geox-url'].mmdb?.trim() || DEFAULT_GEOX_URL.mmdb,
      asn: r['geox-url'].asn?.trim() || DEFAULT_GEOX_URL.asn,
      geosite: r['geox-url'].geosite?.trim() || DEFAULT_GEOX_URL.geosite,
    },
  }));

/** The geo section of a loaded config. */
export type GeoConfig = z.output<typeof geoSchema>;

/** The keys this section reads. */
export const GEO_KEYS: readonly string[] = Object.keys(geoSchema.in.shape);

/** The geo section with every default, for a Config built without it. */
export const DEFAULT_GEO_CONFIG: GeoConfig = geoSchema.parse({});

/** Validates the geo keys of the top-level mapping; undefined when they have errors. */
export function parseGeo(top: Record<string, unknown>, issues: Issues): GeoConfig | undefined {
  const picked: Record<string, unknown> = {};
  for (const k of GEO_KEYS) if (top[k] !== undefined) picked[k] = top[k];
  const r = geoSchema.safeParse(picked);
  if (!r.success) {
    issues.zod([], r.error);
    return undefined;
  }
  // mihomo logs the invalid interval when the updater starts and runs none
  return r.data;
}
