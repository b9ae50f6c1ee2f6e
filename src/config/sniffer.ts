import { z } from 'zod';
import { parseCidr } from '../common/cidr.js';
import { type Issues, isRecord } from './issues.js';
import { boolLike, textLike, textListLike } from './values.js';

/** The sniffers mihomo has, by their `sniff:` key (matched in any case, as mihomo). */
export const SNIFFER_TYPES = ['TLS', 'HTTP', 'QUIC'] as const;
export type SnifferType = (typeof SNIFFER_TYPES)[number];

/** An inclusive range of destination ports. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** One enabled sniffer: its destination ports (empty: its default, 443 or 80) and override. */
export interface SniffProtocolConfig {
  readonly type: SnifferType;
  /** inclusive port ranges; empty means the sniffer's default port */
  readonly ports: readonly PortRange[];
  readonly overrideDestination: boolean;
}

/** The `sniffer:` section, as mihomo's RawSniffer resolves it (defaults from mihomo's RawConfig). */
export interface SnifferConfig {
  readonly enable: boolean;
  readonly forceDnsMapping: boolean;
  readonly parsePureIp: boolean;
  readonly overrideDestination: boolean;
  readonly sniff: readonly SniffProtocolConfig[];
  /** domain patterns (`+.x`, `.x`, `*.x`, exact) sniffed even when the destination is a domain */
  readonly forceDomain: readonly string[];
  /** sniffed hosts matching these are not used */
  readonly skipDomain: readonly string[];
  /** IP prefixes of clients / destinations never sniffed */
  readonly skipSrcAddress: readonly string[];
  readonly skipDstAddress: readonly string[];
}

export const SNIFFER_DEFAULTS: SnifferConfig = {
  enable: false,
  forceDnsMapping: true,
  parsePureIp: true,
  overrideDestination: true,
  sniff: [],
  forceDomain: [],
  skipDomain: [],
  skipSrcAddress: [],
  skipDstAddress: [],
};

const portsList = z.preprocess((v) => (typeof v === 'string' || typeof v === 'number' ? [v] : v), z.array(textLike));

const protocolSchema = z.looseObject({
  ports: portsList.optional(),
  'override-destination': boolLike.optional(),
});

const snifferSchema = z.looseObject({
  enable: boolLike.optional(),
  'override-destination': boolLike.optional(),
  'force-dns-mapping': boolLike.optional(),
  'parse-pure-ip': boolLike.optional(),
  sniffing: textListLike.optional(),
  'port-whitelist': portsList.optional(),
  'force-domain': textListLike.optional(),
  'skip-domain': textListLike.optional(),
  'skip-src-address': textListLike.optional(),
  'skip-dst-address': textListLike.optional(),
  sniff: z.record(z.string(), z.union([protocolSchema, z.null()])).optional(),
});

const KNOWN_KEYS = new Set(Object.keys(snifferSchema.shape));

/** `443`, `"8080-8880"`, `" 80 "` → inclusive ranges, as mihomo's NewUnsignedRangesFromList. */
function parsePorts(list: readonly string[], path: readonly (string | number)[], issues: Issues): PortRange[] | undefined {
  const out: PortRange[] = [];
  let ok = true;
  list.forEach((item, i) => {
    if (item.trim() === '') return;
    const parts = item.split('-').map((s) => s.replace(/^[[\s]+|[\]\s]+$/g, ''));
    const nums = parts.map((s) => (/^\d{1,5}$/.test(s) ? Number(s) : NaN));
    if (parts.length > 2 || nums.some((n) => !(n >= 0 && n <= 65535))) {
      issues.error([...path, i], `invalid port range ${JSON.stringify(item)}`);
      ok = false;
      return;
    }
    const lo = nums[0];
    const hi = nums[nums.length - 1];
    out.push(lo <= hi ? { from: lo, to: hi } : { from: hi, to: lo });
  });
  return ok ? out : undefined;
}

/** Domain lists: `geosite:` and `rule-set:` entries are not supported yet and are left out, with a warning. */
function domainList(list: readonly string[] | undefined, key: string, issues: Issues): string[] {
  const out: string[] = [];
  (list ?? []).forEach((d, i) => {
    const lower = d.toLowerCase();
    if (lower.includes('geosite:') || lower.includes('rule-set:')) {
      issues.warn(['sniffer', key, i], `${d} in sniffer.${key} is not supported yet, ignored`);
    } else out.push(d);
  });
  return out;
}

/** IP prefix lists: validated; `geoip:` / `rule-set:` entries are not supported yet (warned, left out). */
function cidrList(list: readonly string[] | undefined, key: string, issues: Issues): string[] | undefined {
  const out: string[] = [];
  let ok = true;
  (list ?? []).forEach((c, i) => {
    const lower = c.toLowerCase();
    if (lower.includes('geoip:') || lower.includes('rule-set:')) {
      issues.warn(['sniffer', key, i], `${c} in sniffer.${key} is not supported yet, ignored`);
    } else if (!parseCidr(c.trim())) {
      issues.error(['sniffer', key, i], `invalid IP prefix ${JSON.stringify(c)}`);
      ok = false;
    } else out.push(c.trim());
  });
  return ok ? out : undefined;
}

function snifferType(name: string): SnifferType | undefined {
  return SNIFFER_TYPES.find((t) => t === name.toUpperCase());
}

/** Validates `sniffer`; undefined when it has errors. An absent section is mihomo's defaults (disabled). */
export function parseSniffer(raw: unknown, issues: Issues): SnifferConfig | undefined {
  if (raw === undefined || raw === null) return SNIFFER_DEFAULTS;
  const r = snifferSchema.safeParse(raw);
  if (!r.success) {
    issues.zod(['sniffer'], r.error);
    return undefined;
  }
  const s = r.data;
  if (isRecord(raw)) for (const k of Object.keys(raw)) if (!KNOWN_KEYS.has(k)) issues.warn(['sniffer', k], `unknown key sniffer.${k}, ignored`);
  const d = SNIFFER_DEFAULTS;
  const enable = s.enable ?? d.enable;
  const overrideDestination = s['override-destination'] ?? d.overrideDestination;
  const sniff: SniffProtocolConfig[] = [];
  let failed = false;
  const entries = Object.entries(s.sniff ?? {});
  if (entries.length > 0) {
    for (const [name, conf] of entries) {
      const type = snifferType(name);
      if (!type) {
        issues.error(['sniffer', 'sniff', name], `not find the sniffer[${name}]`);
        failed = true;
        continue;
      }
      const ports = parsePorts(conf?.ports ?? [], ['sniffer', 'sniff', name, 'ports'], issues);
      if (!ports) {
        failed = true;
        continue;
      }
      sniff.push({ type, ports, overrideDestination: conf?.['override-destination'] ?? overrideDestination });
    }
  } else {
    if (enable && (s.sniffing?.length ?? 0) > 0) issues.warn(['sniffer', 'sniffing'], 'Deprecated: Use Sniff instead');
    const ports = parsePorts(s['port-whitelist'] ?? [], ['sniffer', 'port-whitelist'], issues);
    if (!ports) failed = true;
    (s.sniffing ?? []).forEach((name, i) => {
      const type = snifferType(name);
      if (!type) {
        issues.error(['sniffer', 'sniffing', i], `not find the sniffer[${name}]`);
        failed = true;
      } else if (ports && !sniff.some((x) => x.type === type)) sniff.push({ type, ports, overrideDestination });
    });
  }
  const skipSrcAddress = cidrList(s['skip-src-address'], 'skip-src-address', issues);
  const skipDstAddress = cidrList(s['skip-dst-address'], 'skip-dst-address', issues);
  if (failed || !skipSrcAddress || !skipDstAddress) return undefined;
  return {
    enable,
    forceDnsMapping: s['force-dns-mapping'] ?? d.forceDnsMapping,
    parsePureIp: s['parse-pure-ip'] ?? d.parsePureIp,
    overrideDestination,
    sniff,
    forceDomain: domainList(s['force-domain'], 'force-domain', issues),
    skipDomain: domainList(s['skip-domain'], 'skip-domain', issues),
    skipSrcAddress,
    skipDstAddress,
  };
}
