import type { Logger } from '../../common/log.js';
import { boolLike, intLike, nameLike, nonEmptyText, portLike, textLike } from '../../config/values.js';
import { outboundDialer } from '../../core/chain.js';
import { ProxyError } from '../../core/errors.js';
import type { Dialer } from '../../core/outbound.js';
import { createSystemDialer, IP_VERSIONS, type IpVersion } from '../../transport/system-dialer.js';
import type { OutboundDeps } from '../registry.js';

/**
 * mihomo's dial keys (its BasicOption), which every proxy type takes, DIRECT included:
 * `ip-version`, `tfo`, `mptcp`, `interface-name`, `routing-mark`. `ip-version` is kept as
 * written because mihomo treats an unknown value as dual ({@link proxyDialer} warns).
 * `dialer-proxy` names a proxy or group this one reaches its server through ({@link proxyDialer}).
 */
export const dialShape = {
  'ip-version': textLike.optional(),
  tfo: boolLike.optional(),
  mptcp: boolLike.optional(),
  'interface-name': textLike.optional(),
  'routing-mark': intLike.optional(),
  'dialer-proxy': textLike.optional(),
} as const;

/** The keys of a proxy that dials a server of its own: name, server, port, and the dial keys. */
export const remoteProxyShape = {
  name: nameLike,
  server: nonEmptyText,
  port: portLike,
  ...dialShape,
} as const;

/** The dial keys as the schemas' output has them, with the proxy's name for warnings. */
export interface DialKeys {
  readonly name: string;
  readonly 'ip-version'?: string;
  readonly tfo?: boolean;
  readonly mptcp?: boolean;
  readonly 'interface-name'?: string;
  readonly 'routing-mark'?: number;
  readonly 'dialer-proxy'?: string;
}

/** The shared remote keys as the schemas' output has them. */
export interface RemoteProxyBasics extends DialKeys {
  readonly server: string;
  readonly port: number;
}

/** The dialer for one ip-version: the shared system dialer when dual (or unset), else one of its own. */
export function ipVersionDialer(version: IpVersion | undefined, deps: Pick<OutboundDeps, 'dialer' | 'resolver'>): Dialer {
  return version === undefined || version === 'dual' ? deps.dialer : createSystemDialer({ resolver: deps.resolver, ipVersion: version });
}

/**
 * The dialer a proxy reaches its server (DIRECT: the destination) with, from its dial keys;
 * called once when the proxy is built, so each warning comes once per proxy. Keys Node cannot
 * honour are warned about, never silently dropped: interface-name and routing-mark (no
 * SO_BINDTODEVICE / SO_MARK), tfo and mptcp (no TCP Fast Open or MPTCP sockets; both are only
 * speed-ups). An unknown ip-version is dual, as mihomo treats it, with a warning.
 */
export function proxyDialer(o: DialKeys, deps: OutboundDeps): Dialer {
  const version = ipVersionOf(o, deps.log);
  warnUnhonoured(o, deps.log);
  const via = o['dialer-proxy'];
  if (via === undefined || via === '') return ipVersionDialer(version, deps);
  // found per dial: the proxy or group may be built after this one (the loader checked it exists)
  return outboundDialer(() => {
    const found = deps.outbound?.(via);
    if (!found) throw new ProxyError('CONFIG', `proxy "${o.name}": dialer-proxy "${via}" not found`);
    return found;
  });
}

function ipVersionOf(o: DialKeys, log: Logger): IpVersion | undefined {
  const raw = o['ip-version'];
  if (raw === undefined || raw === '') return undefined;
  const v = IP_VERSIONS.find((x) => x === raw);
  if (v === undefined) log.warn(`proxy "${o.name}": unknown ip-version ${JSON.stringify(raw)}, using dual`);
  return v;
}

function warnUnhonoured(o: DialKeys, log: Logger): void {
  if (o['interface-name']) log.warn(`proxy "${o.name}": interface-name is not supported here and is ignored`);
  if (o['routing-mark']) log.warn(`proxy "${o.name}": routing-mark is not supported here and is ignored`);
  if (o.tfo) log.warn(`proxy "${o.name}": tfo is not supported here and is ignored`);
  if (o.mptcp) log.warn(`proxy "${o.name}": mptcp is not supported here and is ignored`);
}
