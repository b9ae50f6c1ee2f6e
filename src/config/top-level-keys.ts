import { type Issues, isRecord } from './issues.js';
import { boolLike } from './values.js';

/**
 * What clash-ts does with a top-level key of mihomo's config:
 * - `supported`: read by a section parser;
 * - `ignored`: accepted with one warning (a feature we lack whose absence routes nothing wrongly);
 * - `error`: refused, because running without it would send traffic somewhere the user did not
 *   intend (e.g. around the proxy). A function decides per value (`tun` only when enabled).
 */
export type KeyPolicy = 'supported' | 'ignored' | 'error' | ((value: unknown) => 'ignored' | 'error');

const whenEnabled = (v: unknown): 'ignored' | 'error' =>
  isRecord(v) && boolLike.safeParse(v.enable).data === true ? 'error' : 'ignored';

/** Every top-level key of mihomo's RawConfig (and the compact `inbound:` form), with our policy. */
export const TOP_LEVEL_KEYS: ReadonlyMap<string, KeyPolicy> = new Map<string, KeyPolicy>([
  // general, controller, inbounds
  ...['port', 'socks-port', 'mixed-port', 'allow-lan', 'bind-address', 'authentication', 'skip-auth-prefixes',
    'lan-allowed-ips', 'lan-disallowed-ips', 'mode', 'log-level', 'ipv6', 'external-controller', 'external-ui',
    'external-controller-unix', 'external-controller-cors', 'external-ui-name', 'secret', 'listeners', 'inbound', 'proxies', 'proxy-groups', 'proxy-providers', 'rules', 'dns',
    // clash-ts extensions
    'unified-delay', 'warm-pool', 'workers', 'profile', 'max-connections', 'max-connections-per-ip', 'tcp-idle-timeout',
    // mihomo's, read by config/sniffer.ts
    'sniffer',
    // read by config/dns.ts
    'hosts'].map((k) => [k, 'supported'] as const),
  // geo databases (config/geo.ts)
  ...['geo-auto-update', 'geo-update-interval', 'geodata-mode', 'geodata-loader', 'geosite-matcher', 'geox-url'].map((k) => [k, 'supported'] as const),
  // rules (config/rule-provider.ts)
  ...['rule-providers', 'sub-rules', 'find-process-mode'].map((k) => [k, 'supported'] as const),
  // features not built yet whose absence changes no route
  ...['redir-port', 'tproxy-port', 'ss-config', 'vmess-config', 'inbound-tfo', 'inbound-mptcp',
    'external-controller-pipe', 'external-controller-tls', 'external-ui-url', 'external-doh-server', 'tunnels', 'tcp-concurrent',
    'global-client-fingerprint', 'global-ua', 'etag-support', 'keep-alive-idle', 'keep-alive-interval',
    'disable-keep-alive', 'ntp', 'tuic-server', 'experimental',
    'tls', 'clash-for-android'].map((k) => [k, 'ignored'] as const),
  // interface-name/routing-mark keep proxy traffic off a VPN or
  // out of a redirect loop; tun/iptables, when enabled, capture the host's traffic: without
  // them that traffic would silently bypass the proxy
  ['interface-name', 'error'],
  ['routing-mark', 'error'],
  ['tun', whenEnabled],
  ['iptables', whenEnabled],
]);

// The original Clash's capitalised keys, which mihomo dropped: a config using them would run
// with no proxies and no rules at all.
const OLD_CLASH_KEYS: ReadonlyMap<string, string> = new Map([
  ['Proxy', 'proxies'],
  ['Proxy Group', 'proxy-groups'],
  ['Rule', 'rules'],
]);

/** Warns about ignored and unknown keys and reports refused ones. */
export function checkTopLevelKeys(top: Record<string, unknown>, issues: Issues): void {
  for (const [key, value] of Object.entries(top)) {
    const old = OLD_CLASH_KEYS.get(key);
    if (old !== undefined) {
      issues.error([key], `${key} is an old Clash key that mihomo no longer reads: rename it to ${old}`);
      continue;
    }
    const policy = TOP_LEVEL_KEYS.get(key);
    const verdict = typeof policy === 'function' ? policy(value) : policy;
    if (verdict === 'ignored') issues.warn([key], `${key} is not supported yet, ignored`);
    else if (verdict === 'error') {
      const why = typeof policy === 'function' ? ' (enable: true)' : '';
      issues.error([key], `${key} is not supported yet${why}`);
    }
    else if (verdict === undefined) issues.warn([key], `unknown key ${key}, ignored`);
  }
}
