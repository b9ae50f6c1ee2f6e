import { CidrList } from '../common/cidr.js';
import type { Logger } from '../common/log.js';
import { isServerListener } from '../config/listener.js';
import type { Config, ListenerConfig } from '../config/load.js';
import { formatAddress } from '../core/address.js';
import type { ConnectionHandler, Inbound } from '../core/inbound.js';
import type { ConnectionLimits } from './limits.js';
import { startInbound, type InboundOptions } from './listener.js';
import { SERVER_PROTOCOLS } from './server/protocols.js';
import { startServerInbound } from './server/start.js';

/** What starting a listener may use besides its own config entry: handed in by the host. */
export interface ListenerContext {
  /** the tunnel (it outlives configs, so a listener kept across a reload routes by the new one) */
  readonly handler: ConnectionHandler;
  readonly log: Logger;
  /** the config's general section (users, LAN lists) */
  readonly general: Config['general'];
  /** whether this process binds the SOCKS5 UDP relays (false in all but one cluster worker) */
  readonly udpRelays: boolean;
}

/** One family of listener types: how to start one and what makes two configs of it the same. */
export interface ListenerDefinition {
  readonly types: readonly string[];
  /** Binds and serves; rejects on bind errors or bad key material. */
  start(l: ListenerConfig, ctx: ListenerContext): Promise<Inbound>;
  /** mihomo's "… proxy listening at: ADDR" line for a started listener */
  listeningLine(l: ListenerConfig, inbound: Inbound): string;
  /**
   * Everything that makes a started listener behave as it does, as a string: equal keys across
   * a reload mean the listener stays bound (its connections untouched); a different key, rebound.
   */
  key(l: ListenerConfig, ctx: Omit<ListenerContext, 'handler' | 'log'>): string;
}

/** Its config entry without where it was written (moving a line must not rebind a port). */
function entryKey(l: ListenerConfig): Record<string, unknown> {
  const { path: _path, line: _line, ...rest } = l as ListenerConfig & { path?: unknown; line?: unknown };
  return rest;
}

/** The top-level max-connections keys, applied to each listener on its own. */
function limitsOf(g: Config['general']): ConnectionLimits {
  return { maxConnections: g.maxConnections ?? 0, maxConnectionsPerIp: g.maxConnectionsPerIp ?? 0 };
}

const PROXY_TITLES: Record<string, string> = { mixed: 'Mixed(http+socks)', http: 'HTTP', socks: 'SOCKS' };

/** mixed / http / socks: the global users and LAN lists apply unless the listener has its own users. */
const proxyListeners: ListenerDefinition = {
  types: ['mixed', 'http', 'socks'],
  async start(l, ctx) {
    if (l.type !== 'mixed' && l.type !== 'http' && l.type !== 'socks') throw new Error(`not a proxy listener: ${l.type}`);
    const g = ctx.general;
    const lan = l.applyLanPolicy && g.allowLan;
    const options: InboundOptions = {
      name: l.name,
      type: l.type,
      listen: l.listen,
      port: l.port,
      udp: l.udp,
      udpBoundElsewhere: !ctx.udpRelays,
      users: l.users ?? g.authentication,
      skipAuthPrefixes: CidrList.parse(g.skipAuthPrefixes),
      lanAllowedIps: lan ? CidrList.parse(g.lanAllowedIps) : undefined,
      lanDisallowedIps: lan ? CidrList.parse(g.lanDisallowedIps) : undefined,
      handler: ctx.handler,
      log: ctx.log,
      limits: limitsOf(g),
    };
    return startWithFallback(options);
  },
  listeningLine(l, inbound) {
    const named = l.name.startsWith('DEFAULT-') ? '' : ` (${l.name})`;
    return `${PROXY_TITLES[l.type]} proxy listening at: ${formatAddress(inbound.address())}${named}`;
  },
  key(l, ctx) {
    const g = ctx.general;
    const lan = 'applyLanPolicy' in l && l.applyLanPolicy && g.allowLan;
    return JSON.stringify({
      entry: entryKey(l),
      users: 'users' in l && l.users !== undefined ? l.users : g.authentication,
      skipAuth: g.skipAuthPrefixes,
      lan: lan ? [g.lanAllowedIps, g.lanDisallowedIps] : null,
      udpRelays: ctx.udpRelays,
      limits: limitsOf(g),
    });
  },
};

/** vless / trojan / vmess / shadowsocks: clash-ts as a proxy server. */
const serverListeners: ListenerDefinition = {
  types: [...SERVER_PROTOCOLS.keys()],
  start(l, ctx) {
    if (!isServerListener(l)) throw new Error(`not a server listener: ${l.type}`);
    return startServerInbound({ ...l, handler: ctx.handler, log: ctx.log, limits: limitsOf(ctx.general) });
  },
  listeningLine(l, inbound) {
    return `${SERVER_PROTOCOLS.get(l.type)?.title ?? l.type}[${l.name}] proxy listening at: ${formatAddress(inbound.address())}`;
  },
  key: (l, ctx) => JSON.stringify({ entry: entryKey(l), limits: limitsOf(ctx.general) }),
};

/** The table from listener `type` to its definition. */
export class ListenerRegistry {
  readonly #defs = new Map<string, ListenerDefinition>();

  register(def: ListenerDefinition): this {
    for (const t of def.types) {
      if (this.#defs.has(t)) throw new Error(`listener type ${t} registered twice`);
      this.#defs.set(t, def);
    }
    return this;
  }

  get(type: string): ListenerDefinition | undefined {
    return this.#defs.get(type);
  }
}

/** Every listener type we can start. Adding a listener type = its folder and one line here. */
export function createListenerRegistry(): ListenerRegistry {
  return new ListenerRegistry().register(proxyListeners).register(serverListeners);
}

/** `::` means every interface; where the host has no IPv6, fall back to IPv4's wildcard. */
async function startWithFallback(options: InboundOptions): Promise<Inbound> {
  try {
    return await startInbound(options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (options.listen === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
      return startInbound({ ...options, listen: '0.0.0.0' });
    }
    throw err;
  }
}
