import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../common/log.js';
import type { GeoConfig } from '../config/geo.js';
import type { ConfigIssue } from '../core/config-issue.js';
import type { GeoUse } from '../core/geo.js';
import { errorMessage } from '../core/errors.js';
import type { AsnDb } from './asn.js';
import type { CountryDb } from './country.js';
import type { DatFile } from './dat-file.js';
import { GEO_LABELS, geoPath, type GeoKind } from './files.js';
import { GeoDatabases } from './geo-data.js';
import { fileSignature, type GeoCache } from './cache.js';
import { openGeo, type OpenedGeo } from './open.js';

/** Fetches `url` and, once `verify` accepts the bytes, writes them to `path` atomically (download.ts). */
export type GeoDownload = (label: string, url: string, path: string, verify: (data: Buffer) => void) => Promise<Buffer>;

/** What loading the databases uses from the host. */
export interface GeoEnv {
  /** mihomo's home directory, where the databases live */
  readonly homeDir: string;
  readonly log: Logger;
  /** absent (as under -t): nothing is downloaded and a missing database is an error */
  readonly download?: GeoDownload;
  /** the host's cache across reloads (absent: every load reads the files) */
  readonly cache?: GeoCache;
}

/** A bigger file is refused before it is read (real databases are tens of MB; downloads stop at 256 MiB). */
const MAX_FILE = 512 * 1024 * 1024;

/** Which database a use reads, by the config's mode. */
export function kindOf(use: GeoUse, cfg: Pick<GeoConfig, 'geodataMode'>): GeoKind {
  return use.kind === 'asn' ? 'asn' : use.kind === 'site' ? 'geosite' : cfg.geodataMode ? 'geoip' : 'mmdb';
}

/** The URL a database is downloaded from (geox-url). */
export function urlOf(kind: GeoKind, cfg: GeoConfig): string {
  return kind === 'mmdb' ? cfg.url.mmdb : kind === 'asn' ? cfg.url.asn : kind === 'geoip' ? cfg.url.geoip : cfg.url.geosite;
}

/**
 * Reads one database from the home directory, as mihomo's geodata.Init*: a missing file is
 * downloaded from geox-url; a file that does not open is replaced by a download (which must
 * open before it is written, so a bad download leaves the old copy). Without a downloader both
 * are errors naming the file.
 */
export async function readGeo(kind: GeoKind, cfg: GeoConfig, env: GeoEnv): Promise<{ path: string; sig: string; opened: OpenedGeo }> {
  const path = geoPath(env.homeDir, kind);
  const before = env.cache ? await fileSignature(path) : undefined;
  const cached = before === undefined ? undefined : env.cache?.file(path, before);
  if (cached) return { path, sig: before!, opened: cached };
  const r = await readGeoFile(kind, path, cfg, env);
  const sig = (await fileSignature(path)) ?? '';
  env.cache?.storeFile(path, sig, r);
  return { path, sig, opened: r };
}

async function readGeoFile(kind: GeoKind, path: string, cfg: GeoConfig, env: GeoEnv): Promise<OpenedGeo> {
  const name = basename(path);
  const label = GEO_LABELS[kind];
  const verify = (data: Buffer): void => {
    openGeo(kind, data);
  };
  let data: Buffer | undefined;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_FILE) throw new Error(`${name} is larger than ${MAX_FILE} bytes (${size})`);
    data = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`can't read ${name}: ${errorMessage(err)}`, { cause: err });
  }
  if (data === undefined) {
    if (!env.download) throw new Error(`can't find ${name} in ${env.homeDir} (it is downloaded from geox-url when the config runs, never by -t)`);
    env.log.info(`Can't find ${name}, start download`);
    try {
      data = await env.download(label, urlOf(kind, cfg), path, verify);
    } catch (err) {
      throw new Error(`can't download ${name}: ${errorMessage(err)}`);
    }
    env.log.info(`Download ${name} finish`);
  }
  env.log.info(`Load ${label} file: ${path}`);
  try {
    return openGeo(kind, data);
  } catch (err) {
    if (!env.download) throw new Error(`${name} is invalid: ${errorMessage(err)}`);
    env.log.warn(`${name} invalid, download again: ${errorMessage(err)}`);
    try {
      data = await env.download(label, urlOf(kind, cfg), path, verify);
    } catch (err2) {
      throw new Error(`${name} is invalid (${errorMessage(err)}) and can't be downloaded again: ${errorMessage(err2)}`);
    }
    return openGeo(kind, data);
  }
}

/** Where a use's line is in the config, for its issue. */
export interface UseLine {
  readonly raw: string;
  readonly path: string;
  readonly line?: number;
}

/**
 * Loads every database some use needs and binds each use. Returns the geo data (always: an
 * empty one when nothing needed a database, so the DNS side can still ask for `private`) and
 * the issues: one per database that could not be had (at the first line needing it), one per
 * use that does not bind (an unknown category), worded with the line as the build words them.
 */
export async function prepareGeo(
  cfg: GeoConfig,
  uses: readonly GeoUse[],
  lines: readonly UseLine[],
  env: GeoEnv,
): Promise<{ geo: GeoDatabases; issues: ConfigIssue[] }> {
  const issues: ConfigIssue[] = [];
  const at = (raw: string): Pick<ConfigIssue, 'path' | 'line'> => {
    // a sub-rule of AND/OR/NOT is found inside its logic rule's line
    const l = lines.find((x) => x.raw === raw) ?? lines.find((x) => x.raw.includes(raw));
    return l ? { path: l.path, line: l.line } : { path: 'rules' };
  };
  const byKind = new Map<GeoKind, GeoUse[]>();
  for (const u of uses) {
    const k = kindOf(u, cfg);
    const list = byKind.get(k);
    if (list) list.push(u);
    else byKind.set(k, [u]);
  }
  const opened = new Map<GeoKind, { path: string; sig: string; db: CountryDb | AsnDb | DatFile }>();
  const failed = new Set<GeoKind>();
  // one database after the other: a download can be tens of MB
  for (const [kind, list] of byKind) {
    try {
      const r = await readGeo(kind, cfg, env);
      opened.set(kind, { path: r.path, sig: r.sig, db: r.opened.db });
    } catch (err) {
      failed.add(kind);
      const more = list.length > 1 ? ` and ${list.length - 1} more` : '';
      issues.push({ ...at(list[0].raw), message: `can't initial ${GEO_LABELS[kind]}: ${errorMessage(err)} (needed by "${list[0].raw}"${more})` });
    }
  }
  const key = [cfg.geodataMode, ...[...opened].map(([k, o]) => `${k}=${o.path}@${o.sig}`).sort()].join('|');
  const make = (): GeoDatabases => new GeoDatabases({
    geodataMode: cfg.geodataMode,
    country: opened.get('mmdb')?.db as CountryDb | undefined,
    asn: opened.get('asn')?.db as AsnDb | undefined,
    geoip: opened.get('geoip')?.db as DatFile | undefined,
    geosite: opened.get('geosite')?.db as DatFile | undefined,
    kinds: [...opened.keys()],
    names: { geoip: basenameOf(opened.get('geoip')?.path), geosite: basenameOf(opened.get('geosite')?.path) },
    onLoad: (what, name, count) => env.log.info(`Load ${what} rule: ${name} (${count} records)`),
  });
  const geo = env.cache && failed.size === 0 ? env.cache.geo(key, make) : make();
  for (const u of uses) {
    if (failed.has(kindOf(u, cfg))) continue;
    try {
      u.bind(geo);
    } catch (err) {
      const what = u.kind === 'site' ? 'load GeoSite data error, ' : u.kind === 'ip' ? '[GeoIP] ' : '';
      issues.push({ ...at(u.raw), message: `${what}${errorMessage(err)} in "${u.raw}"` });
    }
  }
  return { geo, issues };
}

function basenameOf(path: string | undefined): string | undefined {
  return path === undefined ? undefined : basename(path);
}
