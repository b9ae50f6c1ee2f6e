import type { ConnectionView, ProviderView, ProxyView, RuleView } from '../core/control-plane.js';
import { processOf } from '../rule/process-lookup.js';
import { FORMAT_NAMES } from '../rule-provider/provider.js';
import { BEHAVIOR_NAMES } from '../rule-provider/rule-set-data.js';
import { isGroup, type Outbound } from '../core/outbound.js';
import { groupDetails, isSelectable } from '../group/registry.js';
import type { SelectionStore } from '../group/selection-store.js';
import type { DelayHistory } from '../health/history.js';
import type { TrackedConnection } from '../tunnel/tracker.js';
import type { Generation } from './generation.js';

/** Every outbound of a generation as the control plane shows it. */
export function proxyViews(gen: Generation, delays: DelayHistory): ProxyView[] {
  const out: ProxyView[] = [];
  for (const name of gen.outbounds.keys()) {
    const v = proxyView(gen, delays, name);
    if (v) out.push(v);
  }
  // the providers' proxies too, as mihomo lists them (a name already shown is skipped)
  const seen = new Set(gen.outbounds.keys());
  for (const p of gen.providers.values()) {
    for (const o of p.proxies()) {
      if (seen.has(o.name)) continue;
      seen.add(o.name);
      const v = proxyView(gen, delays, o.name);
      if (v) out.push(v);
    }
  }
  return out;
}

/** An outbound of the generation by name: its own, else the first provider proxy of that name. */
export function outboundIn(gen: Generation, name: string): Outbound | undefined {
  return locate(gen, name)?.outbound;
}

/** An outbound by name and the provider it came from (none: the config's own). */
function locate(gen: Generation, name: string): { outbound: Outbound; provider?: string } | undefined {
  const own = gen.outbounds.get(name);
  if (own) return { outbound: own };
  for (const p of gen.providers.values()) for (const o of p.proxies()) if (o.name === name) return { outbound: o, provider: p.name };
  return undefined;
}

/** The proxy `proxy` of the provider `provider`, if it holds one of that name. */
export function providerProxyIn(gen: Generation, provider: string, proxy: string): Outbound | undefined {
  return gen.providers.get(provider)?.proxies().find((o) => o.name === proxy);
}

/** One outbound as the control plane shows it. */
export function proxyView(gen: Generation, delays: DelayHistory, name: string): ProxyView | undefined {
  const found = locate(gen, name);
  if (!found) return undefined;
  const o = found.outbound;
  const history = delays.of(name);
  const alive = history.length === 0 || history[history.length - 1].delay > 0;
  if (!isGroup(o)) return { name, type: o.type, udp: o.udp, history, alive, ...(found.provider !== undefined && { providerName: found.provider }) };
  let udp: boolean;
  try {
    udp = o.udp;
  } catch {
    udp = false; // a member that vanished: the group cannot carry UDP now
  }
  const d = groupDetails(o);
  return {
    name,
    type: o.type,
    udp,
    all: [...o.members],
    now: d?.now ?? o.now(),
    history,
    alive,
    ...(d !== undefined && {
      hidden: d.hidden,
      icon: d.icon,
      ...(d.testUrl !== undefined && { testUrl: d.testUrl }),
      ...(d.expectedStatus !== undefined && { expectedStatus: d.expectedStatus }),
      ...(d.fixed !== undefined && { fixed: d.fixed }),
    }),
  };
}

/** The compiled rules. */
export function ruleViews(gen: Generation): RuleView[] {
  return gen.rules.map((r, index) => ({ index, type: r.type, payload: r.payload, proxy: r.target }));
}

/** The generation's proxy-providers. */
export function providerViews(gen: Generation): ProviderView[] {
  return [...gen.providers.values()].map((p) => ({
    name: p.name,
    kind: 'proxy',
    vehicleType: p.vehicleType,
    updatedAt: p.updatedAt,
    proxies: p.proxies().map((o) => o.name),
    testUrl: p.testUrl,
    expectedStatus: p.expectedStatus,
    ...(p.subscriptionInfo !== undefined && { subscriptionInfo: p.subscriptionInfo }),
  }));
}

/** The generation's rule-providers. */
export function ruleProviderViews(gen: Generation): ProviderView[] {
  return gen.ruleSets.all().map((p) => ({
    name: p.name,
    kind: 'rule',
    vehicleType: p.vehicleType,
    updatedAt: p.updatedAt,
    behavior: BEHAVIOR_NAMES[p.behavior],
    format: p.vehicleType === 'Inline' ? '' : FORMAT_NAMES[p.format],
    ruleCount: p.count,
    ...(p.payload !== undefined && { payload: p.payload }),
  }));
}

/** Updates one rule-provider of the generation: false when it has none of that name. */
export async function updateRuleProviderIn(gen: Generation, name: string): Promise<boolean> {
  const p = gen.ruleSets.get(name);
  if (!p) return false;
  await p.update();
  return true;
}

/** Updates one provider of the generation: false when it has none of that name. */
export async function updateProviderIn(gen: Generation, name: string): Promise<boolean> {
  const p = gen.providers.get(name);
  if (!p) return false;
  await p.update();
  return true;
}

/** A connection record's fields, whether a live TrackedConnection or a worker's report of one. */
type ConnectionFields = Pick<TrackedConnection, 'metadata' | 'destinationIp' | 'chains' | 'rule' | 'rulePayload' | 'upload' | 'download'>;

/** One connection as a snapshot; `start` in epoch ms, `worker` for a cluster worker's. */
export function connectionViewOf(c: ConnectionFields, start: number, worker?: number): ConnectionView {
  // built field by field, not with conditional spreads: /connections asks for every live
  // connection each second, and the spreads' temporary objects were most of that walk's cost
  const m = c.metadata;
  const v: { -readonly [K in keyof ConnectionView]: ConnectionView[K] } = {
    id: m.id,
    network: m.network,
    inbound: m.inbound,
    source: m.source,
    destination: m.destination,
    start,
    chains: c.chains,
    rule: c.rule,
    rulePayload: c.rulePayload,
    upload: c.upload,
    download: c.download,
  };
  if (c.destinationIp !== undefined) v.destinationIp = c.destinationIp;
  if (m.sniffHost !== undefined) v.sniffHost = m.sniffHost;
  if (worker !== undefined) v.worker = worker;
  const p = processOf(m);
  if (p) v.process = { name: p.name, path: p.path, uid: p.uid };
  return v;
}

/** One live connection of this process as a snapshot. */
export function connectionView(c: TrackedConnection): ConnectionView {
  return connectionViewOf(c, c.start.getTime());
}

/**
 * Records `member` as the choice of `group` when the generation has a group of that name that
 * takes a choice and the member is one of its members.
 */
export function selectIn(gen: Generation, store: SelectionStore, group: string, member: string): boolean {
  const g = gen.outbounds.get(group);
  if (!g || !isSelectable(g) || !g.members.includes(member)) return false;
  store.set(group, member);
  return true;
}

/** Clears the fixed member of a url-test or fallback group: false when the group takes none. */
export function unfixIn(gen: Generation, store: SelectionStore, group: string): boolean {
  const g = gen.outbounds.get(group);
  if (!g || !isSelectable(g) || g.fixable !== true) return false;
  store.delete(group);
  return true;
}

/** Runs a provider's health check: false when the generation has none of that name. */
export async function healthCheckProviderIn(gen: Generation, name: string): Promise<boolean> {
  const p = gen.providers.get(name);
  if (!p) return false;
  await p.healthCheck();
  return true;
}

/** After a reload: keeps the choices whose group and member still exist. */
export function pruneSelections(gen: Generation, store: SelectionStore): void {
  store.prune((group, member) => {
    const g = gen.outbounds.get(group);
    return g !== undefined && isSelectable(g) && g.members.includes(member);
  });
}
