import { z } from 'zod';
import type { GeneralBase } from './general.js';
import { type Issues, locate } from './issues.js';
import type { ListenerConfig } from './listener.js';
import { listenPortLike } from './values.js';

const portsSchema = z.object({
  'mixed-port': listenPortLike.optional(),
  port: listenPortLike.optional(),
  'socks-port': listenPortLike.optional(),
});

// key → the listener mihomo starts for it (names as its logs and API show them)
const DERIVED = [
  { key: 'mixed-port', name: 'DEFAULT-MIXED', type: 'mixed', udp: true },
  { key: 'port', name: 'DEFAULT-HTTP', type: 'http', udp: false },
  { key: 'socks-port', name: 'DEFAULT-SOCKS', type: 'socks', udp: true },
] as const;

/**
 * The host the *-port listeners bind: loopback unless allow-lan; with allow-lan the
 * bind-address, where `*` means every interface (`::`, dual stack; the app may fall back to
 * 0.0.0.0 on hosts without IPv6).
 */
export function defaultListenHost(general: Pick<GeneralBase, 'allowLan' | 'bindAddress'>): string {
  if (!general.allowLan) return '127.0.0.1';
  return general.bindAddress === '*' ? '::' : general.bindAddress;
}

/**
 * The listeners of `mixed-port`, `port` and `socks-port`. A port that is absent or 0 starts
 * nothing, as in mihomo.
 */
export function deriveListeners(
  top: Record<string, unknown>,
  general: Pick<GeneralBase, 'allowLan' | 'bindAddress'>,
  issues: Issues,
): ListenerConfig[] {
  const picked: Record<string, unknown> = {};
  for (const d of DERIVED) if (top[d.key] !== undefined) picked[d.key] = top[d.key];
  const r = portsSchema.safeParse(picked);
  if (!r.success) {
    issues.zod([], r.error);
    return [];
  }
  const listen = defaultListenHost(general);
  const out: ListenerConfig[] = [];
  for (const d of DERIVED) {
    const port = r.data[d.key];
    if (port === undefined || port === 0) continue;
    out.push({ name: d.name, type: d.type, listen, port, udp: d.udp, users: undefined, applyLanPolicy: true, ...locate(issues, [d.key]) });
  }
  return out;
}

const WILDCARDS = new Set(['', '*', '0.0.0.0', '::']);

/** Whether two listen hosts can collide on one port. */
function overlaps(a: string, b: string): boolean {
  return a === b || WILDCARDS.has(a) || WILDCARDS.has(b);
}

/**
 * Reports listeners sharing a name, or a port on overlapping addresses (which would fail to
 * bind at start, after the old config was already torn down on a reload). Port 0 never clashes.
 */
export function checkListenerClashes(list: readonly ListenerConfig[], issues: Issues): void {
  const byName = new Map<string, ListenerConfig>();
  list.forEach((l, i) => {
    const first = byName.get(l.name);
    // one error per listener: a repeated name usually comes with its repeated port
    if (first) return issues.errorAt(l, `duplicate listener name ${l.name} (also ${first.path})`);
    byName.set(l.name, l);
    if (l.port === 0) return;
    for (let j = 0; j < i; j++) {
      const o = list[j];
      if (o.port === l.port && overlaps(o.listen, l.listen)) {
        issues.errorAt(l, `port ${l.port} already used by listener ${o.name} (${o.path})`);
        break;
      }
    }
  });
}
