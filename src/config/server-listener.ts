import { z } from 'zod';
import type { Issues, Path, PathSeg } from './issues.js';
import { bindIp, boolLike, countLike, listenPortLike, nameLike, textLike } from './values.js';

/** The proxy-protocol listener types clash-ts can serve (clash-ts as a server). */
export const SERVER_LISTENER_TYPES = ['vless', 'trojan', 'vmess', 'shadowsocks'] as const;

/** One of {@link SERVER_LISTENER_TYPES}. */
export type ServerListenerType = (typeof SERVER_LISTENER_TYPES)[number];

// Keys mihomo honours that we cannot yet: losing them silently would change who may connect or
// how traffic is routed, so each is an error naming the key.
const REFUSED = new Set(['reality-config', 'rule', 'proxy', 'ech-key-pem', 'decryption', 'ss-option', 'trojan-ss-option']);
// Keys whose loss only costs a feature: a warning.
const DEGRADED = new Set(['mux-option']);

/** A user of a vless / vmess / trojan listener (mihomo's key names). */
const userSchema = z.looseObject({
  username: textLike.optional(),
  uuid: textLike.optional(),
  password: textLike.optional(),
  flow: textLike.optional(),
  alterId: countLike.optional(),
});

const serverListenerSchema = z.object({
  name: nameLike,
  type: z.enum(SERVER_LISTENER_TYPES),
  listen: bindIp.default('0.0.0.0'),
  port: listenPortLike.default(0),
  users: z.array(userSchema).optional(),
  'ws-path': textLike.optional(),
  'grpc-service-name': textLike.optional(),
  certificate: textLike.optional(),
  'private-key': textLike.optional(),
  cipher: textLike.optional(),
  password: textLike.optional(),
  udp: boolLike.optional(),
});

const KNOWN = new Set(Object.keys(serverListenerSchema.shape));

/** A user as the server sees it: a name for logs and rules, and its secret. */
export interface ServerUserConfig {
  /** mihomo's `username` (defaults to the secret's position, as a label) */
  readonly name: string;
  /** vless / vmess: the uuid text; trojan: the password */
  readonly secret: string;
}

/** A validated vless / trojan / vmess / shadowsocks listener. */
export interface ServerListenerFields {
  readonly name: string;
  readonly type: ServerListenerType;
  readonly listen: string;
  readonly port: number;
  readonly users: readonly ServerUserConfig[];
  /** WebSocket on this path (plain connections still accepted) */
  readonly wsPath?: string;
  /** gRPC (gun) with this service name (plain connections still accepted) */
  readonly grpcServiceName?: string;
  /** TLS: a PEM file path or inline PEM text, both or neither */
  readonly certificate?: string;
  readonly privateKey?: string;
  /** shadowsocks only */
  readonly cipher?: string;
  readonly password?: string;
}

/**
 * Validates one `listeners:` entry of a server type (`item` is a mapping whose type is one of
 * {@link SERVER_LISTENER_TYPES}). Problems go to `issues` under `at`; undefined when any is an
 * error.
 */
export function parseServerListener(item: Record<string, unknown>, at: Path, issues: Issues): ServerListenerFields | undefined {
  let ok = true;
  const fail = (rel: readonly PathSeg[], message: string): void => {
    issues.error([...at, ...rel], message);
    ok = false;
  };
  for (const key of Object.keys(item)) {
    if (REFUSED.has(key)) fail([key], `listener option ${key} not supported yet`);
    else if (DEGRADED.has(key)) issues.warn([...at, key], `listener option ${key} not supported yet, ignored`);
    else if (!KNOWN.has(key)) issues.warn([...at, key], `unknown listener option ${key}, ignored`);
  }
  const r = serverListenerSchema.safeParse(item);
  if (!r.success) {
    issues.zod(at, r.error);
    return undefined;
  }
  const o = r.data;
  const type = o.type;
  if ((o.certificate === undefined) !== (o['private-key'] === undefined)) fail([], 'certificate and private-key go together');
  const users: ServerUserConfig[] = [];
  if (type === 'shadowsocks') {
    if (o.cipher === undefined) fail(['cipher'], 'missing');
    if (o.password === undefined) fail(['password'], 'missing');
    if (o.udp === true) issues.warn([...at, 'udp'], 'UDP relay on shadowsocks listeners not supported yet, ignored');
    if (o.users !== undefined) issues.warn([...at, 'users'], 'users on shadowsocks listeners not supported yet, ignored');
    if (o['ws-path'] !== undefined || o['grpc-service-name'] !== undefined || o.certificate !== undefined) {
      fail([], 'shadowsocks listeners take no ws-path, grpc-service-name or certificate');
    }
  } else {
    const secretKey = type === 'trojan' ? 'password' : 'uuid';
    if (!o.users || o.users.length === 0) fail(['users'], `a ${type} listener needs at least one user`);
    (o.users ?? []).forEach((u, i) => {
      const secret = type === 'trojan' ? u.password : u.uuid;
      if (secret === undefined || secret === '') return fail(['users', i, secretKey], 'missing');
      if (u.flow !== undefined && u.flow !== '') fail(['users', i, 'flow'], `flow ${u.flow} not supported yet`);
      if ((u.alterId ?? 0) > 0) fail(['users', i, 'alterId'], 'legacy VMess (alterId > 0) not supported yet; use alterId 0');
      users.push({ name: u.username ?? String(i), secret });
    });
  }
  if (!ok) return undefined;
  return {
    name: o.name,
    type,
    listen: o.listen,
    port: o.port,
    users,
    ...(o['ws-path'] !== undefined ? { wsPath: o['ws-path'] } : {}),
    ...(o['grpc-service-name'] !== undefined ? { grpcServiceName: o['grpc-service-name'] } : {}),
    ...(o.certificate !== undefined ? { certificate: o.certificate, privateKey: o['private-key'] } : {}),
    ...(o.cipher !== undefined ? { cipher: o.cipher, password: o.password } : {}),
  };
}
