import type { GeoData, GeoUse } from '../core/geo.js';
import type { Rule } from '../core/rule.js';
import { DomainKeywordRule, DomainRegexRule, DomainRule, DomainSuffixRule } from './domain.js';
import { GeoIpRule } from './geoip.js';
import { GeoSiteRule } from './geosite.js';
import { InNameRule, InTypeRule, InUserRule } from './inbound.js';
import { IpCidrRule, IpSuffixRule, ipRuleOptions } from './ip.js';
import { IpAsnRule } from './ipasn.js';
import { MAX_LOGIC_DEPTH } from './logic-payload.js';
import { parseLogic, type NestedRuleParser } from './logic.js';
import { MatchRule } from './match.js';
import { NetworkRule } from './network.js';
import { PortRule } from './port.js';
import { ProcessRule, UidRule, type ProcessDeps } from './process.js';
import { ruleError } from './rule-error.js';
import type { RuleLineInput } from './rule-line.js';
import { RuleSetRule, type RuleScope, type RuleSetDeps } from './ruleset.js';
import { SubRule } from './sub-rule.js';
import { DomainWildcardRule } from './wildcard.js';

export type { RuleLineInput } from './rule-line.js';

export { MAX_LOGIC_DEPTH } from './logic-payload.js';

/**
 * What rule types may use besides their line: handed in by whoever compiles the config's rules
 * (the host, once per load), never imported as globals. Rule families that need the outside
 * world (geo databases, rule-set providers, sub-rules) get their field here. The host creates
 * one object per load (host.ts loadText) and the build (host/build.ts) sets the late-bound
 * fields before the generation routes, so a rule keeps the object and reads its field when it
 * binds or matches; a rule may not read them while it is being compiled.
 */
export interface RuleDeps extends RuleSetDeps, ProcessDeps {
  /** compile time: the rule-providers and sub-rule sets lines may name (set with each line by the loader) */
  scope?: RuleScope;
  /** the geo databases of this load (late-bound: the build sets it once they are read) */
  geo?: GeoData;
  /** every geo use compiled with these deps (GEOIP, GEOSITE, IP-ASN…): the build loads what they name and binds them */
  geoUses?: GeoUse[];
}

/** Records a rule that needs geo data, for the build to bind; returns it. */
function geoUse<R extends Rule & GeoUse>(deps: RuleDeps, rule: R, needed = true): R {
  if (needed) (deps.geoUses ??= []).push(rule);
  return rule;
}

/** Builds one rule type from its line; `nested` parses sub-rules of logic rules. */
type RuleFactory = (line: RuleLineInput, nested: NestedRuleParser, deps: RuleDeps) => Rule;

/** Rule types of the source IP: `src` is implied, and so is no-resolve. */
const SOURCE = { source: true, noResolve: true } as const;

/** The table from rule TYPE to constructor. Adding a rule type = one line here. */
const FACTORIES: ReadonlyMap<string, RuleFactory> = new Map<string, RuleFactory>([
  ['DOMAIN', (l) => new DomainRule(l.payload, l.target)],
  ['DOMAIN-SUFFIX', (l) => new DomainSuffixRule(l.payload, l.target)],
  ['DOMAIN-KEYWORD', (l) => new DomainKeywordRule(l.payload, l.target)],
  ['DOMAIN-REGEX', (l) => new DomainRegexRule(l.payload, l.target)],
  ['IP-CIDR', (l) => new IpCidrRule(l.type, l.payload, l.target, ipRuleOptions(l.params))],
  ['IP-CIDR6', (l) => new IpCidrRule(l.type, l.payload, l.target, ipRuleOptions(l.params))],
  ['SRC-IP-CIDR', (l) => new IpCidrRule(l.type, l.payload, l.target, SOURCE)],
  ['IP-SUFFIX', (l) => new IpSuffixRule(l.type, l.payload, l.target, ipRuleOptions(l.params))],
  ['SRC-IP-SUFFIX', (l) => new IpSuffixRule(l.type, l.payload, l.target, SOURCE)],
  ['SRC-PORT', (l) => new PortRule('SrcPort', l.type, l.payload, l.target)],
  ['DST-PORT', (l) => new PortRule('DstPort', l.type, l.payload, l.target)],
  ['IN-PORT', (l) => new PortRule('InPort', l.type, l.payload, l.target)],
  ['IN-TYPE', (l) => new InTypeRule(l.payload, l.target)],
  ['IN-USER', (l) => new InUserRule(l.payload, l.target)],
  ['IN-NAME', (l) => new InNameRule(l.payload, l.target)],
  ['NETWORK', (l) => new NetworkRule(l.payload, l.target)],
  ['GEOIP', (l, _n, d) => { const r = new GeoIpRule(l.payload, l.target, ipRuleOptions(l.params), l.raw); return geoUse(d, r, r.needsDatabase); }],
  ['SRC-GEOIP', (l, _n, d) => { const r = new GeoIpRule(l.payload, l.target, SOURCE, l.raw); return geoUse(d, r, r.needsDatabase); }],
  ['GEOSITE', (l, _n, d) => geoUse(d, new GeoSiteRule(l.payload, l.target, l.raw))],
  ['IP-ASN', (l, _n, d) => geoUse(d, new IpAsnRule(l.payload, l.target, ipRuleOptions(l.params), l.raw))],
  ['SRC-IP-ASN', (l, _n, d) => geoUse(d, new IpAsnRule(l.payload, l.target, SOURCE, l.raw))],
  ['AND', (l, nested) => parseLogic('AND', l, nested)],
  ['OR', (l, nested) => parseLogic('OR', l, nested)],
  ['NOT', (l, nested) => parseLogic('NOT', l, nested)],
  ['MATCH', (l) => new MatchRule(l.target)],
  ['DOMAIN-WILDCARD', (l) => new DomainWildcardRule(l.payload, l.target)],
  ['RULE-SET', (l, _n, d) => new RuleSetRule(l, d)],
  ['SUB-RULE', (l, nested, d) => new SubRule(l, nested, d.scope)],
  ['PROCESS-NAME', (l, _n, d) => new ProcessRule('ProcessName', l.payload, l.target, d)],
  ['PROCESS-PATH', (l, _n, d) => new ProcessRule('ProcessPath', l.payload, l.target, d)],
  ['PROCESS-NAME-REGEX', (l, _n, d) => new ProcessRule('ProcessNameRegex', l.payload, l.target, d)],
  ['PROCESS-PATH-REGEX', (l, _n, d) => new ProcessRule('ProcessPathRegex', l.payload, l.target, d)],
  ['UID', (l, _n, d) => new UidRule(l.payload, l.target, d)],
]);

/** Types mihomo knows that we do not build yet: reported as such, not as unknown. */
const NOT_YET: ReadonlySet<string> = new Set([
  'DSCP',
]);

function parseAt(line: RuleLineInput, depth: number, deps: RuleDeps): Rule {
  const factory = FACTORIES.get(line.type);
  if (!factory) {
    if (line.type === '') throw ruleError('missing rule type');
    if (NOT_YET.has(line.type)) throw ruleError(`rule type ${line.type} not supported yet`);
    throw ruleError(`unknown rule type ${line.type}`);
  }
  return factory(line, (sub) => {
    if (depth + 1 > MAX_LOGIC_DEPTH) {
      throw ruleError(`logic rules nest deeper than ${MAX_LOGIC_DEPTH} levels`);
    }
    return parseAt(sub, depth + 1, deps);
  }, deps);
}

/**
 * Builds a rule from one config line. Throws a ProxyError (code CONFIG) whose message says
 * what is wrong: `invalid IP-CIDR payload "1.2.3/33": …`, `rule type GEOIP not supported yet`,
 * `unknown rule type FOO`.
 */
export function parseRule(line: RuleLineInput, deps: RuleDeps = {}): Rule {
  return parseAt(line, 0, deps);
}

/** The config loader's rule compiler: each line is compiled once, while the config loads. */
export function ruleCompiler(deps: RuleDeps = {}): (line: RuleLineInput, scope?: RuleScope) => Rule {
  return (line, scope) => {
    if (scope !== undefined) deps.scope = scope;
    return parseAt(line, 0, deps);
  };
}
