import { z } from 'zod';
import type { Logger } from '../../common/log.js';
import type { Dialer } from '../../core/outbound.js';
import { warmPoolOptsSchema, type WarmPoolOpts } from '../../transport/options.js';
import { createSystemDialer, IP_VERSIONS, type IpVersion } from '../../transport/system-dialer.js';
import type { TlsOptions } from '../../transport/tls.js';
import { warmOverride, warmPoolLookup, type WarmPoolLookup } from '../../transport/warm-connect.js';
import type { OutboundDeps } from '../registry.js';

// The value leniencies of mihomo's weakly typed decoder, so existing YAML loads unchanged.

/** A string field: a YAML number or boolean is taken as its text (`password: 123456`). */
export const weakText = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/** A boolean field: also Go's ParseBool words (`"true"`, `"1"`…) and numbers (non-zero = true). */
export const weakBool = z.preprocess((v) => {
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' && TRUE_WORDS.has(v)) return true;
  if (typeof v === 'string' && FALSE_WORDS.has(v)) return false;
  return v;
}, z.boolean());

/** A port: 1..65535, also written as a numeric string. */
export const weakPort = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z.number().int().min(1, { message: 'port must be 1..65535' }).max(65535, { message: 'port must be 1..65535' }),
);

/** A proxy name: a number is taken as its text; never empty. */
export const proxyName = z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1, { message: 'must not be empty' }));

/** mihomo's `fingerprint`: a SHA-256 certificate pin, hex with optional colons; empty = none. */
export const fingerprintField = weakText.refine(
  (v) => v.trim() === '' || /^[0-9a-fA-F]{64}$/.test(v.trim().replace(/:/g, '')),
  { message: 'fingerprint must be a SHA-256 certificate fingerprint (64 hex digits, colons optional)' },
);

/**
 * The keys every remote proxy mapping shares (mihomo's server/port plus its BasicOption:
 * tfo, mptcp, interface-name, routing-mark, ip-version). `dialer-proxy` is refused by the
 * config loader itself until chains exist.
 */
export const remoteProxyShape = {
  name: proxyName,
  server: weakText.pipe(z.string().min(1, { message: 'must not be empty' })),
  port: weakPort,
  'ip-version': weakText.optional(),
  tfo: weakBool.optional(),
  mptcp: weakBool.optional(),
  'interface-name': weakText.optional(),
  'routing-mark': z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int()).optional(),
} as const;

/** The shared keys as the schemas' output has them. */
export interface RemoteProxyBasics {
  readonly name: string;
  readonly server: string;
  readonly port: number;
  readonly 'ip-version'?: string;
  readonly tfo?: boolean;
  readonly mptcp?: boolean;
  readonly 'interface-name'?: string;
  readonly 'routing-mark'?: number;
}

/**
 * The dialer a remote proxy reaches its server with: the shared system dialer, or one of its
 * own when `ip-version` narrows the families. Keys Node cannot honour are warned about once
 * here (never silently dropped): interface-name and routing-mark (no SO_BINDTODEVICE/SO_MARK),
 * tfo and mptcp (no TCP Fast Open or MPTCP sockets; both are only speed-ups). An unknown
 * ip-version is dual, as mihomo treats it.
 */
export function basicsDialer(o: RemoteProxyBasics, deps: OutboundDeps): Dialer {
  const version = ipVersionOf(o, deps.log);
  warnUnhonoured(o, deps.log);
  return version !== undefined && version !== 'dual' ? createSystemDialer({ resolver: deps.resolver, ipVersion: version }) : deps.dialer;
}

function ipVersionOf(o: RemoteProxyBasics, log: Logger): IpVersion | undefined {
  const raw = o['ip-version'];
  if (raw === undefined || raw === '') return undefined;
  const v = IP_VERSIONS.find((x) => x === raw);
  if (v === undefined) log.warn(`proxy "${o.name}": unknown ip-version ${JSON.stringify(raw)}, using dual`);
  return v;
}

function warnUnhonoured(o: RemoteProxyBasics, log: Logger): void {
  if (o['interface-name']) log.warn(`proxy "${o.name}": interface-name is not supported here and is ignored`);
  if (o['routing-mark']) log.warn(`proxy "${o.name}": routing-mark is not supported here and is ignored`);
  if (o.tfo) log.warn(`proxy "${o.name}": tfo is not supported here and is ignored`);
  if (o.mptcp) log.warn(`proxy "${o.name}": mptcp is not supported here and is ignored`);
}

/** The TLS keys http and socks5 share, plus the clash-ts `warm-pool` extension. */
export const proxyTlsShape = {
  tls: weakBool.optional(),
  'skip-cert-verify': weakBool.optional(),
  fingerprint: fingerprintField.optional(),
  'warm-pool': warmPoolOptsSchema.optional(),
} as const;

/** TLS to the proxy server itself (`tls: true`) and its warm pool; both absent without TLS. */
export function proxyTls(
  o: RemoteProxyBasics & { readonly tls?: boolean; readonly 'skip-cert-verify'?: boolean; readonly fingerprint?: string; readonly 'warm-pool'?: WarmPoolOpts },
  serverName: string,
  deps: OutboundDeps,
): { tls?: TlsOptions; warmPool?: WarmPoolLookup } {
  if (!o.tls) return {};
  const tls: TlsOptions = { serverName, skipCertVerify: o['skip-cert-verify'] ?? false, fingerprint: o.fingerprint?.trim() || undefined };
  return { tls, warmPool: warmPoolLookup(deps.warmPool, { server: o.server, port: o.port, tls }, warmOverride(o['warm-pool'])) };
}
