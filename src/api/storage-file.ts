/**
 * The values of /storage/:key (a dashboard's settings: zashboard syncs its own there), kept in
 * memory and in one file of the home directory, so they survive a restart. Every change
 * rewrites the whole file atomically (a temp file, then rename), one write at a time, the
 * latest state last. A write that fails is logged; the API keeps answering from memory.
 */
import { readFileSync, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import type { Logger } from '../common/log.js';
import { errorMessage } from '../core/errors.js';

export const STORAGE_MAX_KEYS = 64;
export const STORAGE_MAX_VALUE = 256 * 1024;
export const STORAGE_KEY = /^[A-Za-z0-9._-]{1,128}$/;
/** the file name in the home directory */
export const STORAGE_FILE = 'dashboard-storage.json';
/** a file larger than every allowed value together (plus JSON overhead) is not read */
const MAX_FILE = STORAGE_MAX_KEYS * (STORAGE_MAX_VALUE * 2 + 256);

export class DashboardStorage {
  readonly #map = new Map<string, string>();
  readonly #path: string | undefined;
  readonly #log: Logger;
  /** the write under way, and whether another change came since it started */
  #writing: Promise<void> | undefined;
  #dirty = false;

  /** Reads `path` when it exists (undefined: memory only). A bad file is logged and ignored. */
  constructor(path: string | undefined, log: Logger) {
    this.#path = path;
    this.#log = log;
    if (path) this.#load(path);
  }

  #load(path: string): void {
    let text: string;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a file');
      if (st.size > MAX_FILE) throw new Error(`${st.size} bytes is more than storage can hold`);
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.#log.warn(`[Storage] ignoring ${path}: ${errorMessage(err)}`);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      this.#log.warn(`[Storage] ignoring ${path}: ${errorMessage(err)}`);
      return;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      this.#log.warn(`[Storage] ignoring ${path}: not a JSON object`);
      return;
    }
    for (const [k, v] of Object.entries(data)) {
      if (this.#map.size >= STORAGE_MAX_KEYS) break;
      if (!STORAGE_KEY.test(k) || typeof v !== 'string' || Buffer.byteLength(v) > STORAGE_MAX_VALUE) continue;
      try {
        JSON.parse(v);
      } catch {
        continue;
      }
      this.#map.set(k, v);
    }
  }

  get size(): number {
    return this.#map.size;
  }
  get(key: string): string | undefined {
    return this.#map.get(key);
  }
  has(key: string): boolean {
    return this.#map.has(key);
  }
  /** `value` is JSON text the route checked */
  set(key: string, value: string): void {
    this.#map.set(key, value);
    this.#save();
  }
  delete(key: string): void {
    if (this.#map.delete(key)) this.#save();
  }

  /** resolves once every change so far is on disk (or its write failed) */
  async settled(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  #save(): void {
    const path = this.#path;
    if (!path) return;
    if (this.#writing) {
      this.#dirty = true;
      return;
    }
    this.#writing = (async () => {
      do {
        this.#dirty = false;
        const text = JSON.stringify(Object.fromEntries(this.#map));
        const tmp = `${path}.${process.pid}.tmp`;
        try {
          await writeFile(tmp, text, { mode: 0o600 });
          await rename(tmp, path);
        } catch (err) {
          this.#log.warn(`[Storage] cannot save ${path}: ${errorMessage(err)} (the values stay in memory)`);
          await unlink(tmp).catch(() => {});
        }
      } while (this.#dirty);
      this.#writing = undefined;
    })();
  }
}
