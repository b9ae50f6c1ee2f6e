import type { Logger } from '../common/log.js';
import { RULE_PROVIDER_CACHE_DIR, type RuleProviderConfig } from '../config/rule-provider.js';
import type { Component } from '../core/component.js';
import { errorMessage } from '../core/errors.js';
import type { DomainSet, IpSet, RuleSetEntry } from '../core/geo.js';
import type { Metadata } from '../core/metadata.js';
import type { Outbound } from '../core/outbound.js';
import type { VehicleType } from '../core/provider.js';
import { FetchedCopy } from '../provider/fetched-copy.js';
import { providerPath } from '../provider/provider.js';
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
  /** inline: when its payload was applied or last "updated" */
  #inlineAt = 0;
  /** file / http: the copy's life (disk, conditional fetch, timer) */
  readonly #copy: FetchedCopy | undefined;
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
    this.#copy =
      this.path === undefined
        ? undefined
        : new FetchedCopy(cfg, this.path, deps, {
            defaultSizeLimit: MAX_RULE_PAYLOAD,
            apply: (buf, source) => this.#applyBuffer(buf, source),
          });
    if (cfg.type === 'inline') {
      this.#swap(cfg.payload ?? [], 'payload');
      this.#inlineAt = Date.now();
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
    return this.#copy?.updatedAt ?? this.#inlineAt;
  }

  /** where an http provider keeps the ETag and Last-Modified of its copy (beside it) */
  get validatorsPath(): string | undefined {
    return this.#copy?.validatorsPath;
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
    if (this.#copy && previous.#copy) this.#copy.adopt(previous.#copy);
  }

  /** Begins the work: the local copy, then (http) a fetch when it is old or missing; timers for `interval`. */
  async start(): Promise<void> {
    const copy = this.#copy;
    if (this.#closed || !copy) return;
    const intervalMs = this.#cfg.intervalSec * 1000;
    await copy.loadLocal();
    if (this.#closed) return;
    if (this.#cfg.type === 'http') {
      const age = copy.age;
      if (!this.#loaded || intervalMs === 0 || age >= intervalMs) {
        await copy.update().catch((err: unknown) => this.#warn(`update failed: ${errorMessage(err)}`));
        if (intervalMs > 0) copy.schedule(intervalMs);
      } else copy.schedule(intervalMs - age);
    } else if (intervalMs > 0) copy.schedule(intervalMs);
  }

  /** Fetches (http) or re-reads (file) now; rejects with the reason (the old set stays). */
  update(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`rule-provider ${this.name} is closed`));
    if (!this.#copy) {
      this.#inlineAt = Date.now(); // as mihomo: an inline update only touches the time
      return Promise.resolve();
    }
    return this.#copy.update();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#copy?.close();
  }

  /** Parses a payload and swaps the set in. Throws when it cannot be read. */
  #applyBuffer(buf: Buffer, source: string): void {
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
