/**
 * mihomo's JSON, built from the control plane's views: the one place that knows the field names,
 * which ports are numbers and which strings, and the type names dashboards match on.
 */
import { isIP } from 'node:net';
import type { ConnectionView, DelayRecord, GeneralView, LogView, ProxyView, RuleView, TrafficView } from '../core/control-plane.js';
import type { InboundType } from '../core/metadata.js';

/** mihomo's Metadata.Type names (constant/metadata.go) */
const INBOUND_TYPE_NAMES: Record<InboundType, string> = {
  HTTP: 'HTTP',
  HTTPS: 'HTTPS',
  SOCKS4: 'Socks4',
  SOCKS5: 'Socks5',
  SHADOWSOCKS: 'ShadowSocks',
  VMESS: 'Vmess',
  VLESS: 'Vless',
  TROJAN: 'Trojan',
  INNER: 'Inner',
};

const historyJson = (h: readonly DelayRecord[]) => h.map((r) => ({ time: new Date(r.time).toISOString(), delay: r.delay }));

/** One outbound as /proxies lists it. */
export function proxyJson(p: ProxyView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name,
    type: p.type,
    udp: p.udp,
    xudp: false,
    tfo: false,
    mptcp: false,
    smux: false,
    interface: '',
    'routing-mark': 0,
    'dialer-proxy': '',
    'provider-name': p.providerName ?? '',
    alive: p.alive,
    history: historyJson(p.history),
    extra: {},
  };
  if (p.all !== undefined) {
    // each group type's own fields, as mihomo's MarshalJSON of that type (LoadBalance and Relay have no `now`)
    out.all = [...p.all];
    if (p.type !== 'LoadBalance' && p.type !== 'Relay') out.now = p.now ?? '';
    if (p.testUrl !== undefined) out.testUrl = p.testUrl;
    if (p.expectedStatus !== undefined) out.expectedStatus = p.expectedStatus;
    if (p.fixed !== undefined) out.fixed = p.fixed;
    out.hidden = p.hidden ?? false;
    out.icon = p.icon ?? '';
  }
  return out;
}

/** `{"proxies": {name: proxy}}` in config order */
export function proxiesJson(list: readonly ProxyView[]): { proxies: Record<string, unknown> } {
  const proxies: Record<string, unknown> = {};
  for (const p of list) proxies[p.name] = proxyJson(p);
  return { proxies };
}

/** One live connection as mihomo's TrackerInfo (ports as strings, as mihomo keeps them). */
export function connectionJson(c: ConnectionView): Record<string, unknown> {
  const domain = isIP(c.destination.host) === 0 ? c.destination.host : '';
  const dstIp = domain === '' ? c.destination.host : (c.destinationIp ?? '');
  return {
    id: c.id,
    metadata: {
      network: c.network,
      type: INBOUND_TYPE_NAMES[c.inbound.type] ?? c.inbound.type,
      sourceIP: c.source.host,
      destinationIP: dstIp,
      sourceGeoIP: null,
      destinationGeoIP: null,
      sourceIPASN: '',
      destinationIPASN: '',
      sourcePort: String(c.source.port),
      destinationPort: String(c.destination.port),
      inboundIP: '',
      inboundPort: String(c.inbound.port),
      inboundName: c.inbound.name,
      inboundUser: c.inbound.user ?? '',
      host: domain,
      dnsMode: 'normal',
      uid: c.process?.uid ?? 0,
      process: c.process?.name ?? '',
      processPath: c.process?.path ?? '',
      specialProxy: '',
      specialRules: '',
      remoteDestination: c.destinationIp ?? dstIp,
      dscp: 0,
      sniffHost: c.sniffHost ?? '',
    },
    upload: c.upload,
    download: c.download,
    start: new Date(c.start).toISOString(),
    chains: [...c.chains],
    rule: c.rule,
    rulePayload: c.rulePayload,
  };
}

/** GET /connections */
export function snapshotJson(conns: readonly ConnectionView[], traffic: TrafficView, memory: number): Record<string, unknown> {
  return { downloadTotal: traffic.downTotal, uploadTotal: traffic.upTotal, connections: conns.map(connectionJson), memory };
}

/** GET /rules */
export function rulesJson(rules: readonly RuleView[]): { rules: unknown[] } {
  return { rules: rules.map((r) => ({ type: r.type, payload: r.payload, proxy: r.proxy, size: -1 })) };
}

/** GET /configs: mihomo's General (ports as numbers; what we lack as its zero value). */
export function configJson(g: GeneralView): Record<string, unknown> {
  return {
    port: g.port,
    'socks-port': g.socksPort,
    'redir-port': 0,
    'tproxy-port': 0,
    'mixed-port': g.mixedPort,
    tun: { enable: false },
    'tuic-server': { enable: false },
    'ss-config': '',
    'vmess-config': '',
    authentication: [],
    'skip-auth-prefixes': [],
    'lan-allowed-ips': [],
    'lan-disallowed-ips': [],
    'allow-lan': g.allowLan,
    'bind-address': g.bindAddress,
    'inbound-tfo': false,
    'inbound-mptcp': false,
    mode: g.mode,
    'log-level': g.logLevel,
    ipv6: g.ipv6,
    'interface-name': '',
    'routing-mark': 0,
    'geo-auto-update': false,
    'tcp-concurrent': false,
    'find-process-mode': 'off',
    sniffing: false,
  };
}

/** A /logs line as JSON text: exactly JSON.stringify(logJson(e, structured)), without the object for the plain shape. */
export function logText(e: LogView, structured: boolean): string {
  return structured ? JSON.stringify(logJson(e, true)) : `{"type":${JSON.stringify(e.level)},"payload":${JSON.stringify(e.message)}}`;
}

/** /logs lines: `{type, payload}`, or with format=structured `{time, level, message, fields}` */
export function logJson(e: LogView, structured: boolean): Record<string, unknown> {
  if (!structured) return { type: e.level, payload: e.message };
  const d = new Date(e.time);
  const pad = (n: number) => String(n).padStart(2, '0');
  return { time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`, level: e.level === 'warning' ? 'warn' : e.level, message: e.message, fields: [] };
}
