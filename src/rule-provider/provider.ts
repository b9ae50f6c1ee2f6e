import { createHash } from 'node:crypto';
import { readFile, stat, utimes } from 'node:fs/promises';
import type { Logger } from '../common/log.js';
import { RULE_PROVIDER_CACHE_DIR, type RuleProviderConfig } from '../config/rule-provider.js';
import type { Component } from '../core/component.js';
import { errorMessage } from '../core/errors.js';
import type { DomainSet, IpSet, RuleSetEntry } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Outbound } from '../core/outbound.js';
import type { VehicleType } from '../core/provider.js';
import { DEFAULT_FETCH_TIMEOUT_MS, providerPath, writeAtomic } from '../provider/provider.js';
import { fetchThrough } from '../provider/fetch.js';
import type { TlsOptions } from '../transport/tls.js';
import { readMrs } from './mrs.js';
import { yamlEntries } from './payload.js';
import { buildSet, buildTextSet, DomainSetData, emptySet, IpSetData, type ClassicalCompiler, type RuleSetData } from './rule-set-data.js';

/** mihomo's API names of the formats. */
export const FORMAT_NAMES = { yaml: 'YamlRule', text: 'TextRule', mrs: 'MrsRule' } as const;

/**
 * A payload (file or fetch) bigger than this is refused when no `size-limit` is set: a
 * million-domain list is ~30 MB of text; this bounds what one provider can make us hold.
 */
export const MAX_RULE_PAYLOAD = 256 * 1024 * 1024;

/** What a rule-provider loads and fetches with. */
export interface RuleProviderDeps {
  readonly log: Logger;
  /** the generation's outbounds (`proxy:` of an http provider; DIRECT by default) */
  readonly lookup: (name: string) => Outbound | undefined;
  /** relative `path`s and the default cache dir (rules/) are under it */
  readonly homeDir: string;
  /** compiles one classical entry with the generation's RuleDeps */
  readonly classical: ClassicalCompiler;
  readonly fetchTimeoutMs?: number;
  /** extra trust anchors for https (tests) */
  readonly ca?: TlsOptions['ca'];
}

const VEHICLES: Record<RuleProviderConfig['type'], VehicleType> = { file: 'File', http: 'HTTP', inline: 'Inline' };

/** A provider's settings without where they were written, to tell one provider across reloads. */
function settingsKey(cfg: RuleProviderConfig): string {
  const { path: _p, line: _l, ...rest } = cfg;
  return JSON.stringify(rest);
}

/**
 * A `rule-providers` entry: `inline` (its payload, loaded when built), `file` (read when the
 * generation starts, re-read every `interval`) or `http` (the last good copy on disk first,
 * fetched at start when older than `interval`, then every `interval`; ETag and
 * If-Modified-Since are sent). Each load builds a whole new set and swaps it in one step; a
 * failed load keeps the previous set. Until the first load it matches nothing.
 */
export class RuleProvider implements Component, RuleSetEntry {
  readonly name: string;
  readonly label: string;
  readonly vehicleType: VehicleType;
  readonly behavior: RuleProviderConfig['behavior'];
  readonly format: RuleProviderConfig['format'];
  readonly path: string | undefined;
  readonly #cfg: RuleProviderConfig;
  readonly #deps: RuleProviderDeps;
  #data: RuleSetData;
  #loaded = false;
  #warnedNotLoaded = false;
  #updatedAt = 0;
  #hash: string | undefined;
  #etag: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #inflight: Promise<void> | undefined;
  #closed = false;
  readonly #domains: DomainSet;
  readonly #ips: IpSet;

  constructor(cfg: RuleProviderConfig, deps: RuleProviderDeps) {
    this.name = cfg.name;
    this.label = `rule-provider(${cfg.name})`;
    this.vehicleType = VEHICLES[cfg.type];
    this.behavior = cfg.behavior;
    this.format = cfg.format;
    this.#cfg = cfg;
    this.#deps = deps;
    this.path = providerPath(cfg, deps.homeDir, RULE_PROVIDER_CACHE_DIR);
    this.#data = emptySet(cfg.behavior);
    // live views: each question reads the set loaded now
    this.#domains = { has: (d) => this.#data.hasDomain(d) };
    this.#ips = { has: (ip) => this.#data.hasIp(ip) };
    if (cfg.type === 'inline') {
      this.#swap(cfg.payload ?? [], 'payload');
      this.#updatedAt = Date.now();
    }
  }

  get loaded(): boolean {
    return this.#loaded;
  }
  get count(): number {
    return this.#data.count;
  }
  get needsIp(): boolean {
    return this.#data.needsIp;
  }
  get updatedAt(): number {
    return this.#updatedAt;
  }
  /** inline: the entries as written (mihomo's API shows them) */
  get payload(): readonly string[] | undefined {
    return this.#cfg.payload;
  }
  domains(): DomainSet {
    return this.#domains;
  }
  ips(): IpSet {
    return this.#ips;
  }
  match(meta: Metadata, ip: string | undefined): boolean {
    return this.#data.match(meta, ip);
  }
  notLoaded(): void {
    if (this.#warnedNotLoaded || this.#loaded) return;
    this.#warnedNotLoaded = true;
    this.#deps.log.warn(`[RuleSet] ${this.name} is not loaded yet: RULE-SET,${this.name} matches nothing until it is`);
  }

  /**
   * Takes over what the previous generation's provider of the same name and settings had
   * loaded, so a reload leaves no window in which its RULE-SET matches nothing; its own load
   * (start) then swaps in the current copy. Inline providers have loaded already.
   */
  adopt(previous: RuleProvider): void {
    if (this.#cfg.type === 'inline' || !previous.#loaded || this.#loaded) return;
    if (settingsKey(previous.#cfg) !== settingsKey(this.#cfg)) return;
    this.#data = previous.#data;
    this.#loaded = true;
    this.#hash = previous.#hash;
    this.#etag = previous.#etag;
    this.#updatedAt = previous.#updatedAt;
  }

  /** Begins the work: the local copy, then (http) a fetch when it is old or missing; timers for `interval`. */
  async start(): Promise<void> {
    if (this.#closed || this.#cfg.type === 'inline') return;
    const intervalMs = this.#cfg.intervalSec * 1000;
    try {
      await this.#readDisk();
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException)?.code === 'ENOENT';
      if (this.#cfg.type === 'file' || !missing) this.#warn(`${this.path}: ${missing ? 'no such file' : errorMessage(err)}`);
    }
    if (this.#closed) return;
    if (this.#cfg.type === 'http') {
      const age = this.#updatedAt === 0 ? Infinity : Date.now() - this.#updatedAt;
      if (!this.#loaded || intervalMs === 0 || age >= intervalMs) {
        await this.update().catch((err: unknown) => this.#warn(`update failed: ${errorMessage(err)}`));
        if (intervalMs > 0) this.#schedule(intervalMs);
      } else this.#schedule(intervalMs - age);
    } else if (intervalMs > 0) this.#schedule(intervalMs);
  }

  /** Fetches (http) or re-reads (file) now; rejects with the reason (the old set stays). */
  update(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`rule-provider ${this.name} is closed`));
    if (this.#cfg.type === 'inline') {
      this.#updatedAt = Date.now(); // as mihomo: an inline update only touches the time
      return Promise.resolve();
    }
    // one at a time, each its own read: an update asked while another runs (a PUT right after the
    // first fetch) must not get that one's older answer
    const run = (this.#inflight ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => (this.#cfg.type === 'http' ? this.#fetch() : this.#readDisk()));
    const tracked = run.finally(() => {
      if (this.#inflight === tracked) this.#inflight = undefined;
    });
    this.#inflight = tracked;
    return tracked;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort(new Error('rule-provider closed'));
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.update()
        .catch((err: unknown) => {
          if (!this.#closed) this.#warn(`update failed: ${errorMessage(err)}`);
        })
        .finally(() => {
          if (!this.#closed && this.#cfg.intervalSec > 0) this.#schedule(this.#cfg.intervalSec * 1000);
        });
    }, delayMs);
    this.#timer.unref?.();
  }

  #limit(): number {
    return this.#cfg.sizeLimit > 0 ? this.#cfg.sizeLimit : MAX_RULE_PAYLOAD;
  }

  async #readDisk(): Promise<void> {
    const path = this.path!;
    const st = await stat(path);
    if (st.size > this.#limit()) throw new Error(`the file is larger than size-limit (${this.#limit()} bytes)`);
    const buf = await readFile(path);
    if (this.#closed) return;
    this.#applyBuffer(buf, 'file');
    this.#updatedAt = st.mtimeMs;
  }

  async #fetch(): Promise<void> {
    const via = this.#cfg.proxy ?? 'DIRECT';
    const outbound = this.#deps.lookup(via);
    if (!outbound) throw new Error(`proxy "${via}" not found`);
    const headers: Record<string, readonly string[]> = { ...this.#cfg.header };
    if (this.#hash !== undefined) {
      if (this.#etag !== undefined) headers['if-none-match'] = [this.#etag];
      if (this.#updatedAt > 0) headers['if-modified-since'] = [new Date(this.#updatedAt).toUTCString()];
    }
    const abort = new AbortController();
    this.#abort = abort;
    let res: Awaited<ReturnType<typeof fetchThrough>>;
    try {
      res = await fetchThrough(outbound, {
        url: this.#cfg.url!,
        headers,
        timeoutMs: this.#deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
        sizeLimit: this.#limit(),
        signal: abort.signal,
        ca: this.#deps.ca,
      });
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
    if (this.#closed) return;
    if (res.status === 304 && this.#hash !== undefined) {
      this.#updatedAt = Date.now();
      if (this.path) await utimes(this.path, new Date(), new Date()).catch(() => undefined);
      this.#deps.log.debug(`[Provider] ${this.name}: not modified`);
      return;
    }
    if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
    const changed = this.#applyBuffer(res.body, 'fetch');
    const etag = res.headers.etag;
    this.#etag = typeof etag === 'string' && etag !== '' ? etag : undefined;
    this.#updatedAt = Date.now();
    if (changed && this.path) await writeAtomic(this.path, res.body);
    else if (this.path) await utimes(this.path, new Date(), new Date()).catch(() => undefined);
  }

  /** Parses a payload and swaps the set in; false when it is the payload already loaded. Throws when it cannot be read. */
  #applyBuffer(buf: Buffer, source: string): boolean {
    const hash = createHash('sha256').update(buf).digest('hex');
    if (hash === this.#hash) return false;
    if (this.#cfg.format === 'mrs') {
      const content = readMrs(buf, this.behavior);
      const data = content.domains ? new DomainSetData(content.domains) : new IpSetData(content.ips!, content.count);
      this.#install(data, source, []);
    } else {
      const text = buf.toString('utf8');
      if (this.#cfg.format === 'text') {
        const built = buildTextSet(this.behavior, text, this.#deps.classical);
        this.#install(built.data, source, built.refused, built.refusedCount);
      } else {
        const { entries, skipped, skippedCount } = yamlEntries(text);
        this.#swap(entries, source, skipped, skippedCount);
      }
    }
    this.#hash = hash;
    return true;
  }

  #swap(entries: readonly string[], source: string, skipped: readonly string[] = [], skippedCount = 0): void {
    const built = buildSet(this.behavior, entries, this.#deps.classical);
    const notes = [...skipped, ...built.refused];
    const total = skippedCount + built.refusedCount;
    this.#install(built.data, source, notes, total);
  }

  #install(data: RuleSetData, source: string, notes: readonly string[], total = notes.length): void {
    for (const n of notes) this.#warn(`skipped ${n}`);
    if (total > notes.length) this.#warn(`skipped ${total - notes.length} more invalid entries`);
    this.#data = data; // the swap: the next match reads the new set
    this.#loaded = true;
    this.#deps.log.info(`[Provider] ${this.name}: ${data.count} rules loaded from ${source}`);
  }

  #warn(message: string): void {
    this.#deps.log.warn(`[Provider] ${this.name}: ${message}`);
  }
}
