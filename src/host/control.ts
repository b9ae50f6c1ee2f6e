import { parseDocument } from 'yaml';
import { LOG_LEVELS, MODES } from '../config/general.js';
import { ConfigError } from '../core/config-issue.js';
import type {
  ConfigPatch,
  ConnectionView,
  ControlPlane,
  DelayTest,
  DialStatsView,
  DnsMessageView,
  DnsQueryView,
  GeneralView,
  LogView,
  LogViewLevel,
  MemoryView,
  ProviderView,
  ProxyView,
  ReloadResult,
  RuleView,
  TrafficView,
  WarmPoolView,
} from '../core/control-plane.js';
import { errorMessage, ProxyError } from '../core/errors.js';
import { isGroup } from '../core/outbound.js';
import { ExpectedStatus } from '../health/expected-status.js';
import { recordedProbe, type ProbeOptions } from '../health/probe.js';
import { answerQuery } from '../dns/handler.js';
import { query, rcodeOf, recordText, TYPE_NUMBERS, FLAG, type Answer, type RecordType } from '../dns/wire.js';
import type { Host } from './host.js';
import { isSelectable } from '../group/registry.js';
import type { Outbound } from '../core/outbound.js';
import {
  connectionView,
  healthCheckProviderIn,
  outboundIn,
  providerProxyIn,
  providerViews,
  ruleProviderViews,
  proxyView,
  proxyViews,
  ruleViews,
  selectIn,
  unfixIn,
  updateProviderIn,
  updateRuleProviderIn,
} from './views.js';

/** Log levels in increasing severity. */
export const LOG_RANK: Record<LogViewLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

/** The YAML keys a PATCH of listener settings edits, by ConfigPatch field. */
const LISTENER_KEYS = { port: 'port', socksPort: 'socks-port', mixedPort: 'mixed-port', allowLan: 'allow-lan', bindAddress: 'bind-address' } as const;

/** Traffic rate over roughly the last second, sampled when asked (no timer of its own). */
export class RateSampler {
  #at = Date.now();
  #up = 0;
  #down = 0;
  #rate = { up: 0, down: 0 };

  sample(totals: { upload: number; download: number }): { up: number; down: number } {
    const now = Date.now();
    const dt = now - this.#at;
    if (dt >= 1000) {
      this.#rate = { up: Math.max(0, Math.round(((totals.upload - this.#up) * 1000) / dt)), down: Math.max(0, Math.round(((totals.download - this.#down) * 1000) / dt)) };
      this.#at = now;
      this.#up = totals.upload;
      this.#down = totals.download;
    }
    return this.#rate;
  }
}

/**
 * Reads a value into one of `allowed` (case-insensitive), or throws ConfigError naming the key.
 */
export function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase();
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new ConfigError([{ path: key, message: `${key} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}` }]);
  return hit;
}

/** The single-process core's control plane: every answer read from the host and its live generation. */
export class HostControl implements ControlPlane {
  readonly #host: Host;
  readonly #rate = new RateSampler();

  constructor(host: Host) {
    this.#host = host;
  }

  proxies(): ProxyView[] {
    return proxyViews(this.#host.generation, this.#host.delays);
  }

  proxy(name: string): ProxyView | undefined {
    return proxyView(this.#host.generation, this.#host.delays, name);
  }

  async select(group: string, member: string): Promise<boolean> {
    const gen = this.#host.generation;
    if (!selectIn(gen, this.#host.selections, group, member)) return false;
    const g = gen.outbounds.get(group);
    if (g && isSelectable(g)) await g.chosen?.(member);
    return true;
  }

  async unfix(group: string): Promise<boolean> {
    return unfixIn(this.#host.generation, this.#host.selections, group);
  }

  /** A proxy of the config or of a provider (mihomo's ProxiesWithProviders) */
  async delay(name: string, test: DelayTest): Promise<number | undefined> {
    const o = outboundIn(this.#host.generation, name);
    if (!o) return undefined;
    return this.#test(o, test);
  }

  async providerProxyDelay(provider: string, proxy: string, test: DelayTest): Promise<number | undefined> {
    const o = providerProxyIn(this.#host.generation, provider, proxy);
    if (!o) return undefined;
    return this.#test(o, test);
  }

  #test(o: Outbound, test: DelayTest): Promise<number> {
    return recordedProbe(o, o.name, this.#probe(test), this.#host.delays);
  }

  async groupDelay(group: string, test: DelayTest): Promise<Record<string, number> | undefined> {
    const gen = this.#host.generation;
    const g = gen.outbounds.get(group);
    if (!g || !isGroup(g)) return undefined;
    const probe = this.#probe(test);
    const out: Record<string, number> = {};
    await Promise.all(
      [...new Set(g.members)].map(async (m) => {
        const o = outboundIn(gen, m);
        if (!o) return;
        try {
          out[m] = await recordedProbe(o, m, probe, this.#host.delays);
        } catch (err) {
          this.#host.log.debug(`[URLTest] ${m}: ${errorMessage(err)}`);
        }
      }),
    );
    return out;
  }

  /** The probe of a test request: the URL checked, the expected statuses parsed (CONFIG on error). */
  #probe(test: DelayTest): ProbeOptions {
    let expected: ExpectedStatus | undefined;
    try {
      expected = test.expected === undefined ? undefined : ExpectedStatus.parse(test.expected);
    } catch (err) {
      throw new ProxyError('CONFIG', errorMessage(err));
    }
    return { url: test.url, timeoutMs: test.timeoutMs, expected, unified: this.#host.config.general.unifiedDelay, ca: this.#host.probeCa };
  }

  connections(): ConnectionView[] {
    return Array.from(this.#host.tracker.list(), connectionView);
  }

  *eachConnection(): Generator<ConnectionView, void, undefined> {
    for (const c of this.#host.tracker.list()) yield connectionView(c);
  }

  async closeConnection(id: string): Promise<boolean> {
    const c = this.#host.tracker.get(id);
    c?.close();
    return c !== undefined;
  }

  async closeAllConnections(): Promise<number> {
    const n = this.#host.tracker.size;
    this.#host.tracker.closeAll();
    return n;
  }

  traffic(): TrafficView {
    const t = this.#host.tracker.totals();
    const r = this.#rate.sample(t);
    return { up: r.up, down: r.down, upTotal: t.upload, downTotal: t.download };
  }

  memory(): MemoryView {
    return { inuse: process.memoryUsage.rss(), oslimit: 0 };
  }

  subscribeLogs(listener: (entry: LogView) => void, level?: LogViewLevel): () => void {
    const min = level === undefined ? undefined : LOG_RANK[level];
    return this.#host.log.subscribe((e) => {
      if (min === undefined || LOG_RANK[e.level] >= min) listener({ level: e.level, message: e.message, time: e.time.getTime() });
    });
  }

  rules(): RuleView[] {
    return ruleViews(this.#host.generation);
  }

  providers(): ProviderView[] {
    return [...providerViews(this.#host.generation), ...ruleProviderViews(this.#host.generation)];
  }

  updateProvider(name: string): Promise<boolean> {
    return updateProviderIn(this.#host.generation, name);
  }

  healthCheckProvider(name: string): Promise<boolean> {
    return healthCheckProviderIn(this.#host.generation, name);
  }

  updateGeo(): Promise<void> {
    return this.#host.updateGeo();
  }

  updateRuleProvider(name: string): Promise<boolean> {
    return updateRuleProviderIn(this.#host.generation, name);
  }

  config(): GeneralView {
    const g = this.#host.config.general;
    const listeners = this.#host.listenerEntries().map((e) => ({ name: e.config.name, type: e.config.type, address: e.inbound.address() }));
    const portOf = (name: string) => listeners.find((l) => l.name === name)?.address.port ?? 0;
    return {
      mode: this.#host.mode,
      logLevel: this.#host.log.level,
      allowLan: g.allowLan,
      bindAddress: g.bindAddress,
      ipv6: this.#host.ipv6,
      port: portOf('DEFAULT-HTTP'),
      socksPort: portOf('DEFAULT-SOCKS'),
      mixedPort: portOf('DEFAULT-MIXED'),
      listeners,
    };
  }

  async patchConfig(patch: ConfigPatch): Promise<void> {
    const mode = patch.mode === undefined ? undefined : oneOf('mode', patch.mode, MODES);
    const logLevel = patch.logLevel === undefined ? undefined : oneOf('log-level', patch.logLevel, LOG_LEVELS);
    const edits = Object.entries(LISTENER_KEYS).filter(([field]) => patch[field as keyof ConfigPatch] !== undefined);
    if (edits.length > 0) {
      await this.#host.reload(patchedText(this.#host, patch, edits, mode, logLevel));
      if (patch.ipv6 !== undefined) this.#host.ipv6 = patch.ipv6;
      return;
    }
    if (patch.ipv6 !== undefined) this.#host.ipv6 = patch.ipv6;
    if (mode !== undefined) this.#host.mode = mode;
    if (logLevel !== undefined) this.#host.log.level = logLevel;
  }

  reload(config: string): Promise<ReloadResult> {
    return this.#host.reload(config);
  }

  async dnsQuery(name: string, type: 'A' | 'AAAA'): Promise<DnsQueryView> {
    const answers = type === 'A' ? await this.#host.resolver.resolve4(name) : await this.#host.resolver.resolve6(name);
    return { name, type, answers };
  }

  /** Any type, answered as the DNS listener would (hosts, fake-ip, the resolver); DNS off: A/AAAA from the system. */
  async dnsExchange(name: string, type: string): Promise<DnsMessageView> {
    const t = type.toUpperCase();
    const num = TYPE_NUMBERS[t];
    if (num === undefined) throw new ProxyError('CONFIG', 'invalid query type');
    const fqdn = name.endsWith('.') ? name : `${name}.`;
    const rt = this.#host.resolver.runtime;
    if (!rt) {
      if (t !== 'A' && t !== 'AAAA') throw new ProxyError('UNSUPPORTED', 'DNS section is disabled');
      const ips = t === 'A' ? await this.#host.resolver.resolve4(name) : await this.#host.resolver.resolve6(name);
      const answer = ips.map((data) => ({ name: fqdn, type: num, ttl: 0, data }));
      return { status: 0, question: { name: fqdn, type: num, class: 1 }, tc: false, rd: true, ra: true, ad: false, cd: false, answer, authority: [], additional: [] };
    }
    const m = await answerQuery(rt, query(fqdn, t as RecordType));
    const view = (list: Answer[]) =>
      list.filter((a) => a.type !== 'OPT').map((a) => ({ name: a.name.endsWith('.') ? a.name : `${a.name}.`, type: TYPE_NUMBERS[a.type] ?? 0, ttl: (a as { ttl?: number }).ttl ?? 0, data: recordText(a) }));
    return {
      status: rcodeOf(m),
      question: { name: fqdn, type: num, class: 1 },
      tc: (m.flags & FLAG.TC) !== 0,
      rd: (m.flags & FLAG.RD) !== 0,
      ra: (m.flags & FLAG.RA) !== 0,
      ad: (m.flags & FLAG.AD) !== 0,
      cd: (m.flags & FLAG.CD) !== 0,
      answer: view(m.answers),
      authority: view(m.authorities),
      additional: view(m.additionals),
    };
  }

  async flushDnsCache(): Promise<void> {
    this.#host.resolver.flush();
  }

  dialStats(): DialStatsView[] {
    return this.#host.dialStats.views();
  }

  dnsCacheStats(): { hits: number; misses: number } | undefined {
    return this.#host.resolver.stats?.();
  }

  async flushFakeIpCache(): Promise<void> {
    this.#host.resolver.flushFakeIp();
  }

  warmPools(): WarmPoolView[] {
    return this.#host.warmPools.metrics().map((m) => ({ key: m.key, hits: m.hits, misses: m.misses, wasted: m.wasted, size: m.size }));
  }
}

/** The running config's text with the listener keys of `patch` (and the live mode and level) set. */
function patchedText(host: Host, patch: ConfigPatch, edits: [string, string][], mode: string | undefined, logLevel: string | undefined): string {
  const text = host.configText;
  if (text === undefined) {
    throw new ConfigError([{ path: '', message: 'listener settings can only be patched on a config loaded from YAML text' }]);
  }
  const doc = parseDocument(text, { merge: true });
  for (const [field, key] of edits) doc.set(key, patch[field as keyof ConfigPatch]);
  doc.set('mode', mode ?? host.mode);
  doc.set('log-level', logLevel ?? host.log.level);
  return doc.toString();
}
