import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ProxyError } from '../../core/errors.js';
import type { Message } from '../wire.js';
import type { Upstream } from './upstream.js';

/** The nameservers of /etc/resolv.conf (`nameserver` lines), as `ip`; empty when none. */
export function systemNameservers(file = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1].replace(/%.*$/, '')) !== 0) out.push(m[1].replace(/%.*$/, ''));
  }
  return out;
}

/**
 * `system`: the system's nameservers (read from resolv.conf at each query, so a changed
 * network is followed), asked at once through `make` (a UDP upstream per server).
 */
export function systemUpstream(make: (ip: string) => Upstream, file?: string): Upstream {
  const made = new Map<string, Upstream>();
  return {
    address: 'system',
    async exchange(q: Message, signal: AbortSignal) {
      const servers = systemNameservers(file);
      if (servers.length === 0) throw new ProxyError('RESOLVE_FAILED', 'dns system: no nameserver in resolv.conf');
      const ups = servers.slice(0, 3).map((ip) => {
        let u = made.get(ip);
        if (!u) made.set(ip, (u = make(ip)));
        return u;
      });
      // asked at once, as mihomo's system client: the first reply wins (a dead one reports nothing)
      return Promise.any(ups.map((u) => u.exchange(q, signal))).catch((err: AggregateError) => {
        throw err.errors[0];
      });
    },
    close() {
      for (const u of made.values()) u.close();
      made.clear();
    },
  };
}
