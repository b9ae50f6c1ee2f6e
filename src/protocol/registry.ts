import type { z } from 'zod';
import type { Logger } from '../common/log.js';
import type { Dialer, Outbound } from '../core/outbound.js';
import type { Resolver } from '../core/resolver.js';
import type { WarmPoolSource } from '../transport/warm-pool-registry.js';

/** What an outbound may use: handed in by app.ts, never imported as globals. */
export interface OutboundDeps {
  readonly resolver: Resolver;
  readonly log: Logger;
  /** the system dialer (sockets on this host) */
  readonly dialer: Dialer;
  /** warm TLS connections (clash-ts extension); absent means every dial handshakes anew */
  readonly warmPool?: WarmPoolSource;
  /** the generation's outbounds by name, for `dialer-proxy` (absent: a proxy built alone) */
  readonly outbound?: (name: string) => Outbound | undefined;
}

/**
 * One proxy protocol: its YAML `type`, the schema of its whole mapping (name, type, server…),
 * and how to build an Outbound from the validated options.
 */
export interface ProxyDefinition<O extends { readonly name: string } = { readonly name: string }> {
  readonly type: string;
  readonly schema: z.ZodType<O>;
  create(options: O, deps: OutboundDeps): Outbound;
}

/** The table from YAML `type` to protocol. Adding a protocol = one `register` line in index.ts. */
export class ProxyRegistry {
  readonly #defs = new Map<string, ProxyDefinition>();

  register<O extends { readonly name: string }>(def: ProxyDefinition<O>): this {
    if (this.#defs.has(def.type)) throw new Error(`proxy type ${def.type} registered twice`);
    this.#defs.set(def.type, def as unknown as ProxyDefinition);
    return this;
  }

  get(type: string): ProxyDefinition | undefined {
    return this.#defs.get(type);
  }

  types(): string[] {
    return [...this.#defs.keys()];
  }
}

/**
 * Every proxy `type` mihomo accepts. A type here but not in the registry is reported as
 * "not supported yet"; a type in neither is unknown.
 */
export const MIHOMO_PROXY_TYPES: readonly string[] = [
  'direct', 'reject', 'dns', 'http', 'socks5', 'ss', 'ssr', 'snell', 'vmess', 'vless', 'trojan',
  'hysteria', 'hysteria2', 'tuic', 'wireguard', 'ssh', 'mieru', 'anytls', 'sudoku',
];
