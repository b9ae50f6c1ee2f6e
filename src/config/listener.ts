import { z } from 'zod';
import { parseHostPort } from '../core/address.js';
import { type Issues, type Located, isRecord, locate } from './issues.js';
import { parseServerListener, SERVER_LISTENER_TYPES, type ServerListenerFields } from './server-listener.js';
import { bindIp, boolLike, listenPortLike, nameLike, userList } from './values.js';

/** The inbound types clash-ts can start. */
export const LISTENER_TYPES = ['mixed', 'http', 'socks'] as const;

/** mihomo's other `listeners:` types: recognised, reported as not supported yet. */
const LATER_TYPES = new Set([
  'tproxy', 'redir', 'tunnel', 'tun', 'hysteria2', 'tuic',
  'anytls', 'mieru', 'sudoku',
]);

// Keys mihomo honours on these listeners whose silent loss would be unsafe: TLS would turn into
// plain text, and `rule`/`proxy` would route the listener's traffic by the main rules instead.
const UNSAFE_KEYS = new Set(['certificate', 'private-key', 'reality-config', 'rule', 'proxy', 'ech-key-pem']);

/** One entry of `listeners:`, as mihomo spells it (listen defaults to 0.0.0.0, port to 0). */
export const listenerEntrySchema = z
  .object({
    name: nameLike,
    type: z.enum(LISTENER_TYPES),
    listen: bindIp.default('0.0.0.0'),
    port: listenPortLike.default(0),
    udp: boolLike.optional(),
    users: userList.optional(),
  })
  .transform((r) => ({
    name: r.name,
    type: r.type,
    listen: r.listen,
    port: r.port,
    // mihomo's mixed and socks listeners relay UDP unless told not to; its http listener has none
    udp: r.type === 'http' ? false : (r.udp ?? true),
    // absent: the global `authentication` applies; [] turns authentication off (as mihomo)
    users: r.users,
    // mihomo applies lan-allowed-ips and skip-auth-prefixes only where the global users apply
    applyLanPolicy: r.users === undefined,
  }));

const KNOWN_KEYS = new Set(Object.keys(listenerEntrySchema.in.shape));

/** A mixed / http / socks inbound to start, from `listeners:`, `inbound:` or the *-port keys. */
export type ProxyListenerConfig = z.output<typeof listenerEntrySchema> & Located;

/** A vless / trojan / vmess / shadowsocks listener (clash-ts as a server). */
export type ServerListenerConfig = ServerListenerFields & Located;

/** An inbound to start: every one, from `listeners:`, `inbound:` or the *-port keys. */
export type ListenerConfig = ProxyListenerConfig | ServerListenerConfig;

/** Whether `l` is a server-protocol listener (vless, trojan, vmess, shadowsocks). */
export function isServerListener(l: { readonly type: string }): l is ServerListenerConfig {
  return (SERVER_LISTENER_TYPES as readonly string[]).includes(l.type);
}

/** Validates `listeners:`. */
export function parseListenerEntries(raw: unknown, issues: Issues): ListenerConfig[] {
  if (!Array.isArray(raw)) {
    issues.error(['listeners'], 'expected a list');
    return [];
  }
  const out: ListenerConfig[] = [];
  raw.forEach((item, i) => {
    const at = ['listeners', i];
    if (!isRecord(item)) return issues.error(at, 'expected a mapping');
    const type = item.type;
    if (typeof type !== 'string') return issues.error([...at, 'type'], 'missing type');
    if (isServerListener({ type })) {
      const server = parseServerListener(item, at, issues);
      if (server) out.push({ ...server, ...locate(issues, at) });
      return;
    }
    if (!(LISTENER_TYPES as readonly string[]).includes(type)) {
      const message = LATER_TYPES.has(type) ? `listener type ${type} not supported yet` : `unknown listener type ${type}`;
      return issues.error([...at, 'type'], message);
    }
    let ok = true;
    for (const key of Object.keys(item)) {
      if (UNSAFE_KEYS.has(key)) {
        issues.error([...at, key], `listener option ${key} not supported yet`);
        ok = false;
      } else if (!KNOWN_KEYS.has(key)) {
        issues.warn([...at, key], `unknown listener option ${key}, ignored`);
      }
    }
    if (typeof item.port === 'string' && /[-,]/.test(item.port)) {
      return issues.error([...at, 'port'], 'port ranges not supported yet');
    }
    const r = listenerEntrySchema.safeParse(item);
    if (!r.success) return issues.zod(at, r.error);
    if (ok) out.push({ ...r.data, ...locate(issues, at) });
  });
  return out;
}

const inboundItemSchema = z.object({
  listen: z.string().transform((s, ctx) => {
    const a = parseHostPort(s.trim(), '0.0.0.0');
    if (!a) {
      ctx.addIssue({ code: 'custom', message: 'expected host:port, e.g. "0.0.0.0:7890"' });
      return z.NEVER;
    }
    return a;
  }),
  udp: boolLike.optional(),
  users: userList.optional(),
});

const INBOUND_NAMES = { mixed: 'DEFAULT-MIXED', http: 'DEFAULT-HTTP', socks: 'DEFAULT-SOCKS' } as const;

/**
 * The compact form `inbound: { mixed: { listen: "0.0.0.0:7890", udp: true } }` (also `http`,
 * `socks`), which some Clash cores read. Each is the same listener its *-port key would start.
 */
export function parseInboundForm(raw: unknown, issues: Issues): ListenerConfig[] {
  if (!isRecord(raw)) {
    issues.error(['inbound'], 'expected a mapping');
    return [];
  }
  const out: ListenerConfig[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const at = ['inbound', key];
    if (!(key in INBOUND_NAMES)) {
      issues.error(at, `inbound type ${key} not supported yet`);
      continue;
    }
    const type = key as keyof typeof INBOUND_NAMES;
    const r = inboundItemSchema.safeParse(value);
    if (!r.success) {
      issues.zod(at, r.error);
      continue;
    }
    out.push({
      name: INBOUND_NAMES[type],
      type,
      listen: r.data.listen.host,
      port: r.data.listen.port,
      udp: type === 'http' ? false : (r.data.udp ?? true),
      users: r.data.users,
      applyLanPolicy: r.data.users === undefined,
      ...locate(issues, at),
    });
  }
  return out;
}
