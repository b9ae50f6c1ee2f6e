import type { Logger } from '../common/log.js';
import type { Config } from '../config/load.js';
import type { Component } from '../core/component.js';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import { errorMessage } from '../core/errors.js';
import type { Dialer, Outbound } from '../core/outbound.js';
import { DEFAULT_GEO_CONFIG } from '../config/geo.js';
import { prepareGeo, type GeoDownload } from '../geo/prepare.js';
import type { GeoCache } from '../geo/cache.js';
import { GeoAutoUpdater } from '../geo/update.js';
import type { ProxyProvider } from '../core/provider.js';
import type { Resolver } from '../core/resolver.js';
import type { Rule } from '../core/rule.js';
import { COMPATIBLE } from '../group/common/members.js';
import { ProbeQueue } from '../group/common/queue.js';
import type { GroupContext, GroupRegistry, GroupSpec, HealthEnv } from '../group/registry.js';
import type { DelayHistory } from '../health/history.js';
import type { SelectionStore } from '../group/selection-store.js';
import { ConfigProxyProvider } from '../provider/provider.js';
import { providerDialerProxy } from '../config/provider.js';
import { createDirect } from '../protocol/direct/outbound.js';
import { createPass } from '../protocol/pass/outbound.js';
import type { OutboundDeps, ProxyRegistry } from '../protocol/registry.js';
import { createReject, createRejectDrop } from '../protocol/reject/outbound.js';
import { RuleEngine } from '../rule/engine.js';
import { parseRule, type RuleDeps } from '../rule/parse.js';
import { createSniffer } from '../sniffer/dispatcher.js';
import { ProcessFinder } from '../rule/process-lookup.js';
import { classicalCompiler } from '../rule-provider/classical.js';
import { RuleProvider } from '../rule-provider/provider.js';
import { RuleProviderSet } from '../rule-provider/registry.js';
import { compileScope } from '../rule-provider/scope.js';
import type { WarmPoolRegistry } from '../transport/warm-pool-registry.js';
import { Router, type Mode } from '../tunnel/route.js';
import { buildDns } from '../dns/runtime.js';
import { dnsGeoUses } from '../dns/geo-uses.js';
import { Generation } from './generation.js';

/** mihomo's group over every outbound, used in global mode (DIRECT until switched). */
export const GLOBAL = 'GLOBAL';

/** What building a generation uses from the host. */
export interface BuildDeps {
  /**
   * The object the rules of this load were compiled with (rule/parse.ts RuleDeps): the build
   * sets its late-bound fields before the generation routes; rules compiled here use it too.
   */
  readonly ruleDeps: RuleDeps;
  readonly proxies: ProxyRegistry;
  readonly groups: GroupRegistry;
  readonly resolver: Resolver;
  readonly dialer: Dialer;
  /** DIRECT's dialer (its resolver follows direct-nameserver); default `dialer` */
  readonly directDialer?: Dialer;
  readonly log: Logger;
  readonly warmPools: WarmPoolRegistry;
  readonly selections: SelectionStore;
  /** the host's URL-test history: health checks record there */
  readonly delays: DelayHistory;
  /** extra trust anchors for https test URLs */
  readonly probeCa?: string | Buffer;
  /** the host's mode (read per connection) */
  readonly mode: () => Mode;
  /** where relative provider paths and the provider cache (proxies/) are (default: the working directory) */
  readonly homeDir?: string;
  /** provider fetch timeout (default 20 s, as mihomo) */
  readonly providerFetchTimeoutMs?: number;
  /** the DNS's IP → domain map (fake-ip, redir-host), for the sniffer's force-dns-mapping / parse-pure-ip */
  readonly hostByIp?: (ip: string) => string | undefined;
  /** fetches a missing geo database (geo/download.ts); absent (-t): a missing one is an error */
  readonly geoDownload?: GeoDownload;
  /** the host's geo files and sets across reloads */
  readonly geoCache?: GeoCache;
  /** downloads the geo databases again and reloads (Host.updateGeo), for geo-auto-update */
  readonly geoUpdate?: () => Promise<void>;
  /** the running generation's rule-providers: a same provider's set serves until the new one loads */
  readonly previousRuleSets?: RuleProviderSet;
}

/**
 * Builds a generation from a validated Config, starting nothing: outbounds, groups (through the
 * group registry), GLOBAL, and the rules (`rules`, compiled while the config loaded; compiled
 * here only for a Config that came without them). Problems only building reveals are collected
 * and thrown together as one ConfigError, with everything built so far closed.
 */
export async function buildGeneration(id: number, config: Config, rules: readonly Rule[] | undefined, deps: BuildDeps): Promise<Generation> {
  const issues: ConfigIssue[] = [];
  const warmPools = deps.warmPools.scope();
  const outbounds = new Map<string, Outbound>();
  const components: Component[] = [];
  const lookup = (name: string) => outbounds.get(name);
  // `outbound`: dialer-proxy finds its proxy or group per dial, once the generation is whole
  const outboundDeps: OutboundDeps = { resolver: deps.resolver, log: deps.log, dialer: deps.dialer, warmPool: warmPools, outbound: lookup };
  const compatible: Outbound = { ...createReject(COMPATIBLE), type: 'Compatible' };
  const directDeps = deps.directDialer ? { ...outboundDeps, dialer: deps.directDialer } : outboundDeps;
  for (const o of [createDirect('DIRECT', directDeps), createReject('REJECT'), createRejectDrop('REJECT-DROP'), compatible, createPass()]) {
    outbounds.set(o.name, o);
  }
  for (const p of config.proxies) {
    const def = deps.proxies.get(p.type);
    if (!def) {
      issues.push({ path: p.path, line: p.line, message: `proxy type ${p.type} not supported yet` });
      continue;
    }
    try {
      outbounds.set(p.name, def.create(p.options, outboundDeps));
    } catch (err) {
      issues.push({ path: p.path, line: p.line, message: `proxy "${p.name}": ${errorMessage(err)}` });
    }
  }
  // every URL test of this generation's health checks (groups' and providers') shares one bounded queue
  const health: HealthEnv = { delays: deps.delays, unified: config.general.unifiedDelay, ca: deps.probeCa, queue: new ProbeQueue() };
  // proxy-providers, before the groups that `use` them: their local copies load now (no network)
  const providers = new Map<string, ProxyProvider>();
  const taken = new Set([...outbounds.keys(), ...config.proxyGroups.map((g) => g.name), GLOBAL]);
  const dialerGraph = {
    groups: config.proxyGroups,
    proxies: config.proxies,
    providers: config.proxyProviders.map((p) => ({ name: p.name, dialerProxy: providerDialerProxy(p) })),
  };
  for (const pc of config.proxyProviders) {
    try {
      const provider = new ConfigProxyProvider(pc, {
        registry: deps.proxies,
        outboundDeps,
        log: deps.log,
        lookup,
        taken,
        homeDir: deps.homeDir ?? process.cwd(),
        fetchTimeoutMs: deps.providerFetchTimeoutMs,
        health,
        dialerGraph,
      });
      await provider.prepare();
      providers.set(pc.name, provider);
      components.push(provider);
    } catch (err) {
      issues.push({ path: pc.path, line: pc.line, message: `provider "${pc.name}": ${errorMessage(err)}` });
    }
  }
  const ctx: GroupContext = { lookup, selections: deps.selections, providers, log: deps.log, health };
  const specs: (GroupSpec & { readonly path: string; readonly line?: number })[] = [...config.proxyGroups];
  if (!outbounds.has(GLOBAL) && !specs.some((g) => g.name === GLOBAL)) {
    const members = ['DIRECT', 'REJECT', ...config.proxies.map((p) => p.name), ...config.proxyGroups.map((g) => g.name)];
    specs.push({ name: GLOBAL, type: 'select', proxies: members, path: 'proxy-groups' });
  }
  for (const g of specs) {
    const def = deps.groups.get(g.type);
    if (!def) {
      issues.push({ path: g.path, line: g.line, message: `group type ${g.type} not supported yet` });
      continue;
    }
    try {
      const built = def.create(g, ctx);
      outbounds.set(g.name, built.group);
      components.push(...(built.components ?? []));
    } catch (err) {
      issues.push({ path: g.path, line: g.line, message: `group "${g.name}": ${errorMessage(err)}` });
    }
  }

  // rule-providers: built now (inline ones load now), files and fetches once the generation starts
  if (rules === undefined) compileScope(config, deps.ruleDeps, issues);
  const ruleProviders: RuleProvider[] = [];
  for (const rc of config.ruleProviders) {
    try {
      const rp = new RuleProvider(rc, {
        log: deps.log,
        lookup,
        homeDir: deps.homeDir ?? process.cwd(),
        classical: classicalCompiler(deps.ruleDeps),
        fetchTimeoutMs: deps.providerFetchTimeoutMs,
      });
      const before = deps.previousRuleSets?.get(rc.name);
      if (before) rp.adopt(before);
      ruleProviders.push(rp);
      components.push(rp);
    } catch (err) {
      issues.push({ path: rc.path, line: rc.line, message: `rule-provider "${rc.name}": ${errorMessage(err)}` });
    }
  }
  const ruleSets = new RuleProviderSet(ruleProviders);
  const processes = new ProcessFinder(config.findProcessMode);
  deps.ruleDeps.ruleSets = ruleSets;
  deps.ruleDeps.processes = processes;

  let compiled: readonly Rule[] = rules ?? [];
  if (rules === undefined) {
    const out: Rule[] = [];
    for (const line of config.rules) {
      try {
        out.push(parseRule(line, deps.ruleDeps));
      } catch (err) {
        issues.push({ path: line.path, line: line.line, message: `${errorMessage(err)} in "${line.raw}"` });
      }
    }
    compiled = out;
  } else if (rules.length !== config.rules.length) {
    issues.push({ path: 'rules', message: `${rules.length} compiled rules for ${config.rules.length} lines` });
  }

  // geo databases the rules name, read (a missing one downloaded) before the rules bind
  const geoConfig = config.geo ?? DEFAULT_GEO_CONFIG;
  const homeDir = deps.homeDir ?? process.cwd();
  // the DNS side's geo needs (fallback-filter geoip, geosite: keys) are read with the rules'
  if (config.dns.enable) (deps.ruleDeps.geoUses ??= []).push(...dnsGeoUses(config.dns));
  const geo = await prepareGeo(geoConfig, deps.ruleDeps.geoUses ?? [], config.rules, { homeDir, log: deps.log, download: deps.geoDownload, cache: deps.geoCache });
  issues.push(...geo.issues);
  deps.ruleDeps.geo = geo.geo;
  if (geoConfig.autoUpdate && deps.geoUpdate && geo.geo.kinds.length > 0) {
    components.push(new GeoAutoUpdater({ intervalHours: geoConfig.updateIntervalHours, homeDir, kinds: geo.geo.kinds, log: deps.log, update: deps.geoUpdate }));
  }

  const router = new Router({ mode: deps.mode, engine: new RuleEngine(compiled), outbounds, resolver: deps.resolver, processes });
  // DNS (dns.enable): upstreams dialed through this generation's outbounds or rules
  let dns: ReturnType<typeof buildDns>['runtime'];
  if (config.dns.enable) {
    const built = buildDns(config.dns, {
      log: deps.log,
      outbound: lookup,
      route: async (meta) => (await router.route(meta)).outbound,
      geo: geo.geo,
      ruleSets,
      homeDir: deps.homeDir,
      ca: deps.probeCa,
    });
    for (const i of built.issues) issues.push({ path: i.path, message: i.message });
    dns = built.runtime;
    if (dns) components.push(dns);
  }
  const sniffer = createSniffer(config.sniffer, { log: deps.log, hostByIp: deps.hostByIp });
  const gen = new Generation({ id, config, outbounds, providers, ruleSets, rules: compiled, router, sniffer, components, warmPools, log: deps.log, geo: geo.geo, dns });
  if (issues.length > 0) {
    await gen.close();
    throw new ConfigError(issues);
  }
  return gen;
}
