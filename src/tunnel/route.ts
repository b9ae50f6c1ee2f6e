import { isIP } from 'node:net';
import { isGroup, PASS_TYPE, type Outbound, type ProxyGroup } from '../core/outbound.js';
import type { Metadata } from '../core/metadata.js';
import type { Resolver } from '../core/resolver.js';
import type { Rule } from '../core/rule.js';
import type { MatchContext, RuleEngine } from '../rule/engine.js';

/** mihomo's routing modes. */
export type Mode = 'rule' | 'global' | 'direct';

/** Where one connection goes, and why. */
export interface Route {
  /** the leaf outbound to dial (groups already resolved to a member) */
  readonly outbound: Outbound;
  /** mihomo's chain order: leaf first, the rule's target (outermost group) last */
  readonly chains: readonly string[];
  /** the matched rule; undefined in global/direct mode or when nothing matched */
  readonly rule?: Rule;
  /** the destination IP, when the destination is a literal or the rule engine resolved it */
  readonly ip?: string;
  /** the groups passed on the way down and the member each picked, for {@link reportDial} */
  readonly via?: readonly (readonly [ProxyGroup, Outbound])[];
}

/** Tells the groups a connection went through how its dial ended (their health checks count failures). */
export function reportDial(route: Route, err?: unknown): void {
  if (!route.via) return;
  for (const [g, m] of route.via) g.dialed?.(m, err);
}

/** What the router needs, handed in by the generation. */
export interface RouterOptions {
  /** the host's mode, read per connection: PATCH /configs changes it without a rebuild */
  readonly mode: () => Mode;
  readonly engine: RuleEngine;
  /** every outbound by name: DIRECT, REJECT, REJECT-DROP, PASS, GLOBAL, proxies, groups */
  readonly outbounds: ReadonlyMap<string, Outbound>;
  readonly resolver: Resolver;
  /**
   * the generation's process lookup (find-process-mode strict / always): looked up when a
   * process rule is reached (strict) or before the rules (always), asynchronously
   */
  readonly processes?: {
    readonly mode: 'off' | 'strict' | 'always';
    arm(meta: Metadata): boolean;
    lookup(meta: Metadata): Promise<unknown>;
  };
}

/** Turns metadata into a Route: mode, first-match rules with PASS, groups down to a leaf. */
export class Router {
  readonly #opts: RouterOptions;
  readonly #direct: Outbound;
  readonly #resolveIp: (host: string) => Promise<string | undefined>;

  constructor(opts: RouterOptions) {
    this.#opts = opts;
    const direct = opts.outbounds.get('DIRECT');
    if (!direct) throw new Error('router: no DIRECT outbound');
    this.#direct = direct;
    this.#resolveIp = (host) => opts.resolver.resolveIp(host);
  }

  get mode(): Mode {
    return this.#opts.mode();
  }

  async route(meta: Metadata): Promise<Route> {
    const literal = isIP(meta.destination.host) !== 0 ? meta.destination.host : meta.destinationIp;
    const mode = this.#opts.mode();
    if (mode === 'direct') return this.#leaf(this.#direct, meta, undefined, literal);
    if (mode === 'global') {
      const global = this.#opts.outbounds.get('GLOBAL') ?? this.#direct;
      return this.#leaf(global, meta, undefined, literal);
    }
    // an IP already known for a domain destination (the sniffer's override) is the one IP rules see
    const ctx: MatchContext = meta.destinationIp === undefined ? { resolveIp: this.#resolveIp } : { resolveIp: this.#resolveIp, ip: meta.destinationIp, resolved: true };
    const processes = this.#opts.processes;
    if (processes?.arm(meta)) {
      if (processes.mode === 'always') {
        await processes.lookup(meta).catch(() => undefined);
        ctx.processLooked = true;
      } else ctx.findProcess = (m) => processes.lookup(m);
    }
    let from = 0;
    for (;;) {
      const m = await this.#opts.engine.match(meta, ctx, from);
      if (!m) break;
      from = m.index + 1;
      const target = this.#opts.outbounds.get(m.rule.targetFor?.(meta, literal ?? ctx.ip) ?? m.rule.target);
      if (!target) continue; // config validation makes this unreachable; mihomo skips too
      const route = this.#leaf(target, meta, m.rule, literal ?? ctx.ip);
      if (route.outbound.type === PASS_TYPE) continue;
      if (meta.network === 'udp' && !route.outbound.udp) continue; // as mihomo: try the next rule
      return route;
    }
    return this.#leaf(this.#direct, meta, undefined, literal ?? ctx.ip);
  }

  /** Follows groups down to the member that will carry the connection. */
  #leaf(target: Outbound, meta: Metadata, rule: Rule | undefined, ip: string | undefined): Route {
    const chains: string[] = [target.name];
    let o = target;
    let via: [ProxyGroup, Outbound][] | undefined;
    for (let depth = 0; isGroup(o) && depth < 32; depth++) {
      const g: ProxyGroup = o;
      o = g.pick(meta);
      if (g.dialed) (via ??= []).push([g, o]);
      chains.unshift(o.name);
    }
    return via ? { outbound: o, chains, rule, ip, via } : { outbound: o, chains, rule, ip };
  }
}

/** `DomainSuffix(example.com)`, or `Match` for a rule without payload, as mihomo logs it. */
export function describeRule(rule: Rule): string {
  return rule.payload !== '' ? `${rule.type}(${rule.payload})` : rule.type;
}

/** mihomo's chain text: `Group[leaf]`, or just the name for a single hop. */
export function chainText(chains: readonly string[]): string {
  return chains.length <= 1 ? (chains[0] ?? '') : `${chains[chains.length - 1]}[${chains[0]}]`;
}
