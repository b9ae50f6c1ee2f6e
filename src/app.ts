import { CidrList } from './common/cidr.js';
import { createLogger, type Logger } from './common/log.js';
import { isServerListener } from './config/listener.js';
import type { Config } from './config/load.js';
import { formatAddress } from './core/address.js';
import { ConfigError, type ConfigIssue } from './core/config-issue.js';
import { errorMessage } from './core/errors.js';
import type { Inbound } from './core/inbound.js';
import type { Outbound } from './core/outbound.js';
import type { Rule } from './core/rule.js';
import { createSystemResolver } from './dns/system-resolver.js';
import { SelectGroup } from './group/select.js';
import { startInbound, type InboundOptions } from './inbound/listener.js';
import { SERVER_TITLES, startServerInbound } from './inbound/server/start.js';
import { createRegistry } from './protocol/index.js';
import { createDirect } from './protocol/direct/outbound.js';
import { createPass } from './protocol/pass/outbound.js';
import type { OutboundDeps, ProxyRegistry } from './protocol/registry.js';
import { createReject, createRejectDrop } from './protocol/reject/outbound.js';
import { RuleEngine } from './rule/engine.js';
import { parseRule } from './rule/parse.js';
import { createSystemDialer } from './transport/system-dialer.js';
import { WarmPoolRegistry } from './transport/warm-pool-registry.js';
import { Router } from './tunnel/route.js';
import { Tracker } from './tunnel/tracker.js';
import { Tunnel } from './tunnel/tunnel.js';

/** The routing graph built from a Config: every outbound by name, and the compiled rules. */
export interface Graph {
  readonly outbounds: ReadonlyMap<string, Outbound>;
  readonly rules: readonly Rule[];
}

/**
 * Builds outbounds, groups and rules from a validated Config. Problems that only building
 * reveals (a rule payload that does not parse…) are collected and thrown together.
 */
export function buildGraph(config: Config, registry: ProxyRegistry, deps: OutboundDeps): Graph {
  const issues: ConfigIssue[] = [];
  const outbounds = new Map<string, Outbound>();
  const lookup = (name: string) => outbounds.get(name);
  for (const o of [createDirect('DIRECT', deps), createReject('REJECT'), createRejectDrop('REJECT-DROP'), createPass()]) {
    outbounds.set(o.name, o);
  }
  for (const p of config.proxies) {
    const def = registry.get(p.type);
    if (!def) {
      issues.push({ path: p.path, line: p.line, message: `proxy type ${p.type} not supported yet` });
      continue;
    }
    try {
      outbounds.set(p.name, def.create(p.options, deps));
    } catch (err) {
      issues.push({ path: p.path, line: p.line, message: `proxy "${p.name}": ${errorMessage(err)}` });
    }
  }
  for (const [name, members] of selectGroups(config)) outbounds.set(name, new SelectGroup(name, members, lookup));

  const rules: Rule[] = [];
  for (const line of config.rules) {
    try {
      rules.push(parseRule(line));
    } catch (err) {
      issues.push({ path: line.path, line: line.line, message: `${errorMessage(err)} in "${line.raw}"` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { outbounds, rules };
}

/**
 * Every select group a config defines, with its members in order: the `proxy-groups` and
 * mihomo's GLOBAL (every outbound, used in global mode; DIRECT until switched) unless a proxy
 * or group already has that name. The cluster's primary checks selections
 * against this without building outbounds.
 */
export function selectGroups(config: Config): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>(config.proxyGroups.map((g) => [g.name, g.proxies]));
  if (!out.has('GLOBAL') && !config.proxies.some((p) => p.name === 'GLOBAL')) {
    out.set('GLOBAL', ['DIRECT', 'REJECT', ...config.proxies.map((p) => p.name), ...config.proxyGroups.map((g) => g.name)]);
  }
  return out;
}

/** Options for starting the core. */
export interface AppOptions {
  readonly log?: Logger;
  readonly registry?: ProxyRegistry;
  /**
   * Whether this core binds the SOCKS5 UDP relays (default true). In a cluster only one worker
   * does, so each UDP flow stays in one process (one NAT table, one source port); the others
   * announce the same port in their ASSOCIATE replies.
   */
  readonly udpRelays?: boolean;
}

const INBOUND_TITLES: Record<string, string> = {
  mixed: 'Mixed(http+socks)',
  http: 'HTTP',
  socks: 'SOCKS',
};

/** The composition root: one running core built from one Config. */
export class App {
  readonly config: Config;
  readonly log: Logger;
  readonly tracker: Tracker;
  readonly graph: Graph;
  readonly inbounds: readonly Inbound[];
  /** warm TLS pools (clash-ts extension); `metrics()` is what a metrics endpoint reads */
  readonly warmPools: WarmPoolRegistry;
  readonly #tunnel: Tunnel;
  readonly #closeResolver: () => void;

  private constructor(config: Config, log: Logger, tracker: Tracker, graph: Graph, tunnel: Tunnel, inbounds: Inbound[], warmPools: WarmPoolRegistry, closeResolver: () => void) {
    this.config = config;
    this.log = log;
    this.tracker = tracker;
    this.graph = graph;
    this.#tunnel = tunnel;
    this.inbounds = inbounds;
    this.warmPools = warmPools;
    this.#closeResolver = closeResolver;
  }

  /** Builds the graph and starts every listener; throws ConfigError or a bind error. */
  static async start(config: Config, opts: AppOptions = {}): Promise<App> {
    const g = config.general;
    const log = opts.log ?? createLogger(g.logLevel);
    const registry = opts.registry ?? createRegistry();
    const resolver = createSystemResolver({ ipv6: g.ipv6, log });
    const dialer = createSystemDialer({ resolver });
    const warmPools = new WarmPoolRegistry({ log, dialer, defaults: g.warmPool });
    const deps: OutboundDeps = { resolver, log, dialer, warmPool: warmPools };
    let graph: Graph;
    try {
      graph = buildGraph(config, registry, deps);
    } catch (err) {
      warmPools.close();
      resolver.close();
      throw err;
    }
    const tracker = new Tracker();
    const router = new Router({ mode: g.mode, engine: new RuleEngine(graph.rules), outbounds: graph.outbounds, resolver });
    const tunnel = new Tunnel({ router, tracker, log });
    const skipAuth = CidrList.parse(g.skipAuthPrefixes);
    const lanAllowed = CidrList.parse(g.lanAllowedIps);
    const lanDisallowed = CidrList.parse(g.lanDisallowedIps);
    const inbounds: Inbound[] = [];
    try {
      for (const l of config.listeners) {
        if (isServerListener(l)) {
          const inbound = await startServerInbound({ ...l, handler: tunnel, log });
          inbounds.push(inbound);
          log.info(`${SERVER_TITLES[l.type]}[${l.name}] proxy listening at: ${formatAddress(inbound.address())}`);
          continue;
        }
        const lan = l.applyLanPolicy && g.allowLan;
        const options: InboundOptions = {
          name: l.name,
          type: l.type,
          listen: l.listen,
          port: l.port,
          udp: l.udp,
          udpBoundElsewhere: opts.udpRelays === false,
          users: l.users ?? g.authentication,
          skipAuthPrefixes: skipAuth,
          lanAllowedIps: lan ? lanAllowed : undefined,
          lanDisallowedIps: lan ? lanDisallowed : undefined,
          handler: tunnel,
          log,
        };
        const inbound = await startWithFallback(options);
        inbounds.push(inbound);
        log.info(`${INBOUND_TITLES[l.type]} proxy listening at: ${formatAddress(inbound.address())}${l.name.startsWith('DEFAULT-') ? '' : ` (${l.name})`}`);
      }
    } catch (err) {
      await Promise.allSettled(inbounds.map((i) => i.close()));
      tunnel.close();
      warmPools.close();
      resolver.close();
      throw err;
    }
    return new App(config, log, tracker, graph, tunnel, inbounds, warmPools, () => resolver.close());
  }

  /** Finds a started inbound by name. */
  inbound(name: string): Inbound | undefined {
    return this.inbounds.find((i) => i.name === name);
  }

  /**
   * Stops listening, lets live connections finish for up to `graceMs`, then closes the rest.
   */
  async close(graceMs = 3000): Promise<void> {
    await Promise.allSettled(this.inbounds.map((i) => i.close()));
    const deadline = Date.now() + graceMs;
    while (this.tracker.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.tracker.closeAll();
    this.#tunnel.close();
    this.warmPools.close();
    await Promise.allSettled([...this.graph.outbounds.values()].map((o) => o.close()));
    this.#closeResolver();
  }
}

/** `::` means every interface; where the host has no IPv6, fall back to IPv4's wildcard. */
async function startWithFallback(options: InboundOptions): Promise<Inbound> {
  try {
    return await startInbound(options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (options.listen === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
      return startInbound({ ...options, listen: '0.0.0.0' });
    }
    throw err;
  }
}
