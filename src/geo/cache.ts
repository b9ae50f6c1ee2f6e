import { stat } from 'node:fs/promises';
import type { GeoDatabases } from './geo-data.js';
import type { OpenedGeo } from './open.js';

/** What identifies one version of a file: a download renames a new inode over the old one. */
export async function fileSignature(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/**
 * The host's geo databases across reloads: a file whose signature has not changed is not read
 * and indexed again, and a reload that names the same files in the same mode gets the same
 * GeoDatabases, so the category sets (a million-domain GEOSITE takes seconds to build) are
 * built once. Holds the last version of each file and the last GeoDatabases only.
 */
export class GeoCache {
  readonly #files = new Map<string, { readonly sig: string; readonly opened: OpenedGeo }>();
  #geo: { readonly key: string; readonly geo: GeoDatabases } | undefined;

  file(path: string, sig: string): OpenedGeo | undefined {
    const hit = this.#files.get(path);
    return hit && hit.sig === sig ? hit.opened : undefined;
  }

  storeFile(path: string, sig: string, opened: OpenedGeo): void {
    this.#files.set(path, { sig, opened });
  }

  geo(key: string, make: () => GeoDatabases): GeoDatabases {
    if (this.#geo?.key === key) return this.#geo.geo;
    const geo = make();
    this.#geo = { key, geo };
    return geo;
  }
}
