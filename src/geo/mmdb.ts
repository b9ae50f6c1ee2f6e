import { Reader, type Response } from 'mmdb-lib';

/** A bounded decode cache: mmdb-lib keys it by data offset; country databases hold few records. */
class BoundedCache {
  readonly #map = new Map<string | number, unknown>();
  constructor(readonly max: number) {}
  get(key: string | number): unknown {
    return this.#map.get(key);
  }
  set(key: string | number, value: unknown): void {
    if (this.#map.size >= this.max) this.#map.clear();
    this.#map.set(key, value);
  }
}

/** Addresses every sane database answers without throwing (a damaged tree or data section does). */
const PROBES = ['1.1.1.1', '8.8.8.8', '114.114.114.114', '2001:4860:4860::8888', '::1'];

/**
 * Opens a MaxMind DB (mmdb) held in memory with mmdb-lib and checks it is whole: the metadata
 * is read from the end of the file (a truncated file has none), the search tree must fit in
 * the file, and a few lookups must decode. Throws an Error saying what is wrong.
 */
export function openMmdb(data: Buffer): Reader<Response> {
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(data, { cache: new BoundedCache(4096) });
  } catch (err) {
    throw new Error(`not a MaxMind database: ${(err as Error)?.message ?? String(err)}`);
  }
  const m = reader.metadata;
  if (!(m.nodeCount > 0) || m.searchTreeSize + 16 > data.length || (m.ipVersion !== 4 && m.ipVersion !== 6)) {
    throw new Error('damaged MaxMind database: the search tree does not fit the file');
  }
  for (const ip of PROBES) {
    if (m.ipVersion === 4 && ip.includes(':')) continue;
    try {
      reader.get(ip);
    } catch (err) {
      throw new Error(`damaged MaxMind database: lookup of ${ip} failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
  return reader;
}

/** One lookup that never throws: a damaged record reads as no record. */
export function lookup(reader: Reader<Response>, ip: string): unknown {
  if (reader.metadata.ipVersion === 4 && ip.includes(':')) return null;
  try {
    return reader.get(ip);
  } catch {
    return null;
  }
}
