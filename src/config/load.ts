import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../core/config-issue.js';
import type { Rule } from '../core/rule.js';
import type { ProxyRegistry } from '../protocol/registry.js';
import { parseController } from './controller.js';
import { parseDns } from './dns.js';
import { deepFreeze, type DeepReadonly } from './freeze.js';
import { parseGeneral } from './general.js';
import { parseGeo } from './geo.js';
import { Issues, type LineOf, isRecord } from './issues.js';
import { BUILTIN_OUTBOUNDS } from './names.js';
import { checkListenerClashes, deriveListeners } from './listener-derive.js';
import { parseInboundForm, parseListenerEntries, type ListenerConfig as RawListener } from './listener.js';
import { parseProviders, RESERVED_PROVIDER_NAME, type ProviderConfig as RawProvider } from './provider.js';
import { parseProxies, type ProxyConfig as RawProxy } from './proxy.js';
import { checkDialerProxies, parseGroups, type GroupConfig as RawGroup, type GroupTypeSchema } from './proxy-group.js';
import { parseRules, type RuleLine as RawRuleLine } from './rule-line.js';
import { parseSniffer } from './sniffer.js';
import { checkSubRuleCycles, parseFindProcessMode, parseRuleProviders, subRuleSets, type RuleProviderConfig as RawRuleProvider, type RuleScope } from './rule-provider.js';
import { checkTopLevelKeys } from './top-level-keys.js';
import { makeLineOf } from './yaml-lines.js';

export { DEFAULT_CONFIG_YAML } from './default-config.js';

/** What loading needs besides the text: the proxy and group types that can be built. */
export interface LoadOptions {
  readonly registry: ProxyRegistry;
  /** the group `type`s that can be built, with their own keys' schemas (default: select) */
  readonly groupTypes?: readonly (string | GroupTypeSchema)[];
  /**
   * Compiles one rule line (the rule parser, handed in so config/ need not import rule/); a
   * throw is the line's payload error, reported with all the others. Each line is compiled
   * once: the result's `rules` are what the generation runs.
   */
  readonly compileRule?: (line: Pick<RawRuleLine, 'raw' | 'type' | 'payload' | 'target' | 'params'>, scope?: RuleScope) => Rule;
}

/** A loaded config and the warnings about it (ignored keys, unknown keys…). */
export interface LoadResult {
  readonly config: Config;
  readonly warnings: readonly ConfigIssue[];
  /** `config.rules` compiled, in order (when a compiler was given) */
  readonly rules?: readonly Rule[];
  /** the YAML text it was loaded from */
  readonly text?: string;
}

/** A validated, frozen config: every section parsed once into typed objects. */
export type Config = DeepReadonly<{
  general: NonNullable<ReturnType<typeof parseGeneral>> & NonNullable<ReturnType<typeof parseController>>;
  listeners: RawListener[];
  proxies: RawProxy[];
  proxyGroups: RawGroup[];
  proxyProviders: RawProvider[];
  rules: RawRuleLine[];
  dns: NonNullable<ReturnType<typeof parseDns>>;
  sniffer: NonNullable<ReturnType<typeof parseSniffer>>;
  /** geox-url, geodata-mode, geo-auto-update…; absent on a Config built by hand (the defaults apply) */
  geo?: NonNullable<ReturnType<typeof parseGeo>>;
  ruleProviders: RawRuleProvider[];
  /** `sub-rules`: each set's lines, by name */
  subRules: Record<string, RawRuleLine[]>;
  findProcessMode: 'off' | 'strict' | 'always';
}>;

/** An inbound to start (from `listeners:`, `inbound:` or the *-port keys). */
export type ListenerConfig = Config['listeners'][number];
/** A validated proxy with its protocol's options. */
export type ProxyConfig = Config['proxies'][number];
/** A validated proxy group. */
export type GroupConfig = Config['proxyGroups'][number];
/** A validated proxy-providers entry. */
export type ProviderConfig = Config['proxyProviders'][number];
/** A validated rule-providers entry. */
export type RuleProviderConfig = Config['ruleProviders'][number];
/** A rule line split into type, payload, target and params. */
export type RuleLine = Config['rules'][number];

// Bigger than any real config (huge rule lists are a few MB); stops a runaway file early.
const MAX_TEXT = 64 * 1024 * 1024;
// Real templates reference one anchor (`<<: *base`) hundreds of times; the yaml package's
// default of 100 would refuse them. Nested anchors still multiply, so exponential "billion
// laughs" documents stay refused.
const MAX_ALIAS_COUNT = 100_000;

/** Parses YAML text (anchors and `<<` merge keys on) into a JS value and a path→line map. */
function readYaml(text: string): { value: unknown; lineOf: LineOf; yamlWarnings: ConfigIssue[] } {
  if (text.length > MAX_TEXT) throw new ConfigError([{ path: '', message: `config is too large (${text.length} characters)` }]);
  const lc = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { merge: true, lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    // e.g. a stack overflow on absurdly deep nesting
    throw new ConfigError([{ path: '', message: `YAML: ${(err as Error)?.message ?? String(err)}` }]);
  }
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.slice(0, 50).map((e) => ({ path: '', line: lc.linePos(e.pos[0]).line, message: `YAML: ${e.message}` })),
    );
  }
  try {
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    // e.g. an unknown tag (`!foo`), read as a plain value
    const yamlWarnings = doc.warnings
      .slice(0, 50)
      .map((w) => ({ path: '', line: lc.linePos(w.pos[0]).line, message: `YAML: ${w.message}` }));
    return { value, lineOf: makeLineOf(doc, lc), yamlWarnings };
  } catch (err) {
    throw new ConfigError([{ path: '', message: `YAML: ${(err as Error)?.message ?? String(err)}` }]);
  }
}

/**
 * Loads a mihomo-format config: validates every section, collects every problem, and returns a
 * deep-frozen Config. Throws ConfigError carrying all errors at once.
 */
export function loadConfig(yamlText: string, opts: LoadOptions): LoadResult {
  try {
    return load(yamlText, opts);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // whatever the input, callers see only ConfigError (a bug here must not look like a crash)
    throw new ConfigError([{ path: '', message: `cannot load config: ${(err as Error)?.message ?? String(err)}` }]);
  }
}

function load(yamlText: string, opts: LoadOptions): LoadResult {
  const { value, lineOf, yamlWarnings } = readYaml(yamlText);
  const issues = new Issues(lineOf);
  if (value !== null && value !== undefined && !isRecord(value)) {
    throw new ConfigError([{ path: '', line: lineOf([]), message: 'the config must be a mapping of keys' }]);
  }
  // a key with no value (`proxies:`) means the default, as an absent one
  const top: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value ?? {})) if (v !== null && v !== undefined) top[k] = v;

  checkTopLevelKeys(top, issues);
  const general = parseGeneral(top, issues);
  const controller = parseController(top, issues);
  const dns = parseDns(top.dns, issues, top);
  const sniffer = parseSniffer(top.sniffer, issues);
  const geo = parseGeo(top, issues);

  const listeners = [
    ...(general ? deriveListeners(top, general, issues) : []),
    ...(top.inbound !== undefined ? parseInboundForm(top.inbound, issues) : []),
    ...(top.listeners !== undefined ? parseListenerEntries(top.listeners, issues) : []),
  ];
  checkListenerClashes(listeners, issues);

  const none = { proxies: [], groups: [], declared: new Set<string>() };
  const proxies = top.proxies !== undefined ? parseProxies(top.proxies, opts.registry, issues) : none;
  const groupTypes = opts.groupTypes ?? ['select'];
  const rawProviders = top['proxy-providers'];
  const providerNames = new Set(isRecord(rawProviders) ? Object.keys(rawProviders).filter((n) => n !== '' && n !== RESERVED_PROVIDER_NAME) : []);
  const groupOpts = { types: groupTypes, proxyOrder: proxies.proxies.map((p) => p.name), providers: providerNames };
  const groups = top['proxy-groups'] !== undefined ? parseGroups(top['proxy-groups'], proxies.declared, issues, groupOpts) : none;
  const known = (name: string) => proxies.declared.has(name) || groups.declared.has(name);
  checkDialerProxies(top.proxies, groups.groups, (n) => known(n) || BUILTIN_OUTBOUNDS.includes(n), issues);
  const providers = rawProviders !== undefined ? parseProviders(rawProviders, issues, (n) => known(n) || BUILTIN_OUTBOUNDS.includes(n), { groups: groups.groups, proxies: proxies.proxies }) : { providers: [] };
  // rule-providers and sub-rules first: RULE-SET and SUB-RULE lines name them (as mihomo's order)
  const outboundOrBuiltin = (n: string) => known(n) || BUILTIN_OUTBOUNDS.includes(n);
  const ruleProviders = top['rule-providers'] !== undefined ? parseRuleProviders(top['rule-providers'], issues, outboundOrBuiltin) : [];
  const rawSubRules = subRuleSets(top['sub-rules'], issues);
  const scope: RuleScope = {
    ruleProviders: new Map(ruleProviders.map((p) => [p.name, p])),
    subRules: new Map(),
    subRuleNames: new Set(rawSubRules.keys()),
  };
  const providerSet = new Set(scope.ruleProviders.keys());
  const subRules: Record<string, RawRuleLine[]> = {};
  for (const [name, list] of rawSubRules) {
    const parsed = parseRules(list, known, issues, opts.compileRule, { base: ['sub-rules', name], subRules: scope.subRuleNames, ruleProviders: providerSet, scope });
    subRules[name] = parsed.lines;
    scope.subRules.set(name, Object.freeze(parsed.compiled));
  }
  checkSubRuleCycles(new Map(Object.entries(subRules).map(([n, lines]) => [n, lines.filter((l) => l.type === 'SUB-RULE').map((l) => l.target)])), issues);
  const findProcessMode = parseFindProcessMode(top['find-process-mode'], issues);
  const rules = top.rules !== undefined ? parseRules(top.rules, known, issues, opts.compileRule, { subRules: scope.subRuleNames, ruleProviders: providerSet, scope }) : { lines: [], compiled: [] };

  if (issues.failed || !general || !controller || !dns || !sniffer || !geo) throw new ConfigError(issues.errors());
  const config: Config = deepFreeze({
    general: { ...general, ...controller },
    listeners,
    proxies: proxies.proxies,
    proxyGroups: groups.groups,
    proxyProviders: providers.providers,
    rules: rules.lines,
    dns,
    sniffer,
    geo,
    ruleProviders,
    subRules,
    findProcessMode,
  });
  const warnings = Object.freeze([...yamlWarnings, ...issues.warnings()]);
  return opts.compileRule ? { config, warnings, rules: Object.freeze(rules.compiled), text: yamlText } : { config, warnings, text: yamlText };
}
