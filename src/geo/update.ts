import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../common/log.js';
import type { GeoConfig } from '../config/geo.js';
import type { Component } from '../core/component.js';
import { errorMessage } from '../core/errors.js';
import type { Metadata } from '../core/metadata.js';
import type { DialOptions, Outbound } from '../core/outbound.js';
import { GEO_LABELS, geoPath, type GeoKind } from './files.js';
import { openGeo } from './open.js';
import { urlOf, type GeoDownload } from './prepare.js';

/** mihomo's answer while an update runs. */
export const GEO_UPDATE_SKIP = 'GEO database is updating, skip';

/**
 * Downloads every database in `kinds` again from geox-url (mihomo's UpdateGeoDatabases: the
 * ones the running rules use), each checked by its reader before it replaces the file, so a
 * failed or bad download leaves the old copy. Resolves with whether any file changed; rejects
 * with the first error after trying them all.
 */
export async function updateGeoFiles(cfg: GeoConfig, kinds: readonly GeoKind[], env: { homeDir: string; log: Logger; download: GeoDownload }): Promise<boolean> {
  let changed = false;
  let first: Error | undefined;
  for (const kind of kinds) {
    const path = geoPath(env.homeDir, kind);
    const label = GEO_LABELS[kind];
    let old: Buffer | undefined;
    try {
      old = await readFile(path);
    } catch {
      old = undefined;
    }
    try {
      const data = await env.download(label, urlOf(kind, cfg), path, (d) => void openGeo(kind, d));
      if (!old || !old.equals(data)) changed = true;
      env.log.info(`[GEO] ${basename(path)} updated${old && old.equals(data) ? ' (unchanged)' : ''}`);
    } catch (err) {
      const e = new Error(`can't download ${label} database file: ${errorMessage(err)}`);
      env.log.error(`[GEO] update GEO database error: ${e.message}`);
      first ??= e;
    }
  }
  if (first) throw first;
  return changed;
}

/**
 * An Outbound that routes each dial by the running rules, as mihomo's own downloads go through
 * its tunnel once one runs: a rule sending the geox-url host to a proxy fetches through it.
 */
export function routedOutbound(route: (meta: Metadata) => Promise<Outbound>): Outbound {
  return {
    name: 'GEO',
    type: 'Direct',
    udp: false,
    async dialTcp(meta: Metadata, opts: DialOptions) {
      return (await route(meta)).dialTcp(meta, opts);
    },
    dialUdp() {
      return Promise.reject(new Error('geo downloads use TCP only'));
    },
    close: () => Promise.resolve(),
  };
}

/** The newest modification time of the databases in `kinds`, undefined when none exists. */
async function lastUpdate(homeDir: string, kinds: readonly GeoKind[]): Promise<number | undefined> {
  let newest: number | undefined;
  for (const k of kinds) {
    try {
      const m = (await stat(geoPath(homeDir, k))).mtimeMs;
      if (newest === undefined || m > newest) newest = m;
    } catch {
      // missing: not counted
    }
  }
  return newest;
}

/**
 * geo-auto-update: a generation's component that updates the databases when the newest is
 * older than geo-update-interval hours, then every interval (mihomo's RegisterGeoUpdater).
 * `update` downloads and, when a file changed, reloads the config so the rules bind to the new
 * data (the reload retires this generation, and with it this timer; the next one starts anew).
 */
export class GeoAutoUpdater implements Component {
  readonly label = 'geo-auto-update';
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly opts: {
      readonly intervalHours: number;
      readonly homeDir: string;
      readonly kinds: readonly GeoKind[];
      readonly log: Logger;
      readonly update: () => Promise<void>;
      /** for tests: the interval's unit (default one hour) */
      readonly hourMs?: number;
    },
  ) {}

  async start(): Promise<void> {
    const { intervalHours, log } = this.opts;
    if (!(intervalHours > 0)) {
      log.error(`[GEO] Invalid update interval: ${intervalHours}`);
      return;
    }
    if (this.opts.kinds.length === 0) return;
    const every = intervalHours * (this.opts.hourMs ?? 3_600_000);
    const last = await lastUpdate(this.opts.homeDir, this.opts.kinds);
    if (this.#closed) return;
    if (last !== undefined) log.info(`[GEO] last update time ${new Date(last).toISOString()}`);
    this.#timer = setInterval(() => {
      log.info(`[GEO] updating database every ${intervalHours} hours`);
      void this.#run();
    }, Math.min(every, 2 ** 31 - 1));
    this.#timer.unref();
    if (last === undefined || last + every < Date.now()) {
      log.info(`[GEO] Database has not been updated for ${intervalHours}h, update now`);
      await this.#run();
    }
  }

  async #run(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.opts.update();
    } catch (err) {
      this.opts.log.error(`[GEO] Failed to update GEO database: ${errorMessage(err)}`);
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
