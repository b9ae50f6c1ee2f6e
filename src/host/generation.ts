import type { Logger } from '../common/log.js';
import type { Config } from '../config/load.js';
import type { DnsRuntime } from '../dns/runtime.js';
import type { Component } from '../core/component.js';
import { errorMessage } from '../core/errors.js';
import type { Outbound } from '../core/outbound.js';
import type { GeoData } from '../core/geo.js';
import type { ProxyProvider } from '../core/provider.js';
import type { Rule } from '../core/rule.js';
import type { Sniffer } from '../core/sniffer.js';
import { RuleProviderSet } from '../rule-provider/registry.js';
import type { WarmPoolScope } from '../transport/warm-pool-registry.js';
import type { Router } from '../tunnel/route.js';
import type { RoutingTable } from '../tunnel/routing.js';

/** What a generation is made of (see build.ts). */
export interface GenerationParts {
  readonly id: number;
  readonly config: Config;
  /** every outbound by name, in config order: built-ins, proxies, groups, GLOBAL */
  readonly outbounds: ReadonlyMap<string, Outbound>;
  /** its proxy-providers by name (also among its components) */
  readonly providers?: ReadonlyMap<string, ProxyProvider>;
  /** its rule-providers (also among its components): RULE-SET rules and DNS `rule-set:` keys ask them */
  readonly ruleSets?: RuleProviderSet;
  readonly rules: readonly Rule[];
  readonly router: Router;
  /** `sniffer:`, when enabled */
  readonly sniffer?: Sniffer;
  /** timers and files of its own (health checks, providers…), started with it, closed at retirement */
  readonly components: readonly Component[];
  /** its view of the host's warm pools */
  readonly warmPools: WarmPoolScope;
  readonly log: Logger;
  /** its geo databases (the rules' and the DNS side's) */
  readonly geo?: GeoData;
  /** its DNS when dns.enable (also among its components) */
  readonly dns?: DnsRuntime;
}

/**
 * What one config builds: outbounds, groups, rules and their components. The host routes new
 * connections by exactly one generation at a time; a connection holds the generation that
 * routed it (retain / release) until it ends. Once replaced, a generation is retired when its
 * last connection ends: components closed, outbounds closed, warm pools only it used drained.
 */
export class Generation implements RoutingTable {
  readonly id: number;
  readonly config: Config;
  readonly outbounds: ReadonlyMap<string, Outbound>;
  readonly providers: ReadonlyMap<string, ProxyProvider>;
  /** its rule-providers by name (core/geo.ts RuleSets) */
  readonly ruleSets: RuleProviderSet;
  readonly rules: readonly Rule[];
  readonly router: Router;
  readonly sniffer: Sniffer | undefined;
  readonly components: readonly Component[];
  /** the geo databases this generation's rules were bound to (absent only for a hand-built generation) */
  readonly geo: GeoData | undefined;
  readonly dns: DnsRuntime | undefined;
  readonly #warm: WarmPoolScope;
  readonly #log: Logger;
  #live = 0;
  #retiring = false;
  #started = false;
  #closing: Promise<void> | undefined;
  #onClosed: (() => void) | undefined;
  /** resolves once the generation is closed */
  readonly closed: Promise<void>;

  constructor(p: GenerationParts) {
    this.id = p.id;
    this.config = p.config;
    this.outbounds = p.outbounds;
    this.providers = p.providers ?? new Map();
    this.ruleSets = p.ruleSets ?? new RuleProviderSet([]);
    this.rules = p.rules;
    this.router = p.router;
    this.sniffer = p.sniffer;
    this.components = p.components;
    this.geo = p.geo;
    this.dns = p.dns;
    this.#warm = p.warmPools;
    this.#log = p.log;
    this.closed = new Promise((resolve) => (this.#onClosed = resolve));
  }

  /** connections (TCP relays, UDP sessions) it routed that are still live */
  get live(): number {
    return this.#live;
  }

  get retiring(): boolean {
    return this.#retiring;
  }

  retain(): void {
    this.#live++;
  }

  release(): void {
    if (this.#live > 0) this.#live--;
    if (this.#live === 0 && this.#retiring) void this.#close();
  }

  /** Starts its components (once it is the live generation). Errors are logged, not thrown. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Promise.all(
      this.components.map(async (c) => {
        try {
          await c.start();
        } catch (err) {
          this.#log.error(`${c.label}: ${errorMessage(err)}`);
        }
      }),
    );
  }

  /**
   * No new connection will be routed by it: close it once its last connection ends (now, if
   * none is live). Resolves when it is closed.
   */
  retire(): Promise<void> {
    this.#retiring = true;
    if (this.#live <= 0) void this.#close();
    return this.closed;
  }

  /** Closes it now, whatever is live (the host's own shutdown, after the grace period). */
  close(): Promise<void> {
    this.#retiring = true;
    return this.#close();
  }

  #close(): Promise<void> {
    this.#closing ??= (async () => {
      const all = [
        ...this.components.map((c) => c.close()),
        ...[...this.outbounds.values()].map((o) => o.close()),
      ];
      const results = await Promise.allSettled(all);
      for (const r of results) if (r.status === 'rejected') this.#log.warn(`generation ${this.id}: close: ${errorMessage(r.reason)}`);
      this.#warm.release();
      this.#onClosed?.();
    })();
    return this.#closing;
  }
}
