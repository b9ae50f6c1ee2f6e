import { ProxyError } from '../../core/errors.js';
import type { ServerKeys2022, User2022 } from './codec/aead2022-server.js';
import { evpBytesToKey, parsePsks, pskHash2022 } from './codec/kdf.js';
import { findMethod, type MethodSpec } from './codec/methods.js';

/** A server's method and keys, derived once from its options. */
export interface ServerKeys {
  readonly spec: MethodSpec;
  /** pre-2022: EVP_BytesToKey(password) */
  readonly key: Buffer;
  /** 2022: the server PSK (the identity PSK when there are users) and the users */
  readonly keys2022?: ServerKeys2022;
}

/** One user of a multi-user 2022 server: a name for logs and its base64 uPSK. */
export interface ServerUser {
  readonly name: string;
  readonly password: string;
}

/**
 * Derives a server's keys. 2022: `password` is one base64 PSK; with `users`, it is the
 * server's iPSK and each user brings a uPSK (SIP023). CONFIG error for anything invalid.
 */
export function serverKeys(method: string, password: string, users?: readonly ServerUser[]): ServerKeys {
  const found = findMethod(method);
  if ('unsupported' in found) throw new ProxyError('CONFIG', found.unsupported);
  const spec = found;
  if (spec.kind !== 'aead2022') {
    if (users && users.length > 0) throw new ProxyError('CONFIG', `${method} has no multi-user form`);
    return { spec, key: spec.kind === 'none' ? Buffer.alloc(0) : evpBytesToKey(password, spec.keySize) };
  }
  const psks = parsePsks(password, spec.keySize);
  if (typeof psks === 'string' || psks.length !== 1) {
    throw new ProxyError('CONFIG', typeof psks === 'string' ? psks : 'a server takes one PSK');
  }
  let map: Map<string, User2022> | undefined;
  if (users && users.length > 0) {
    if (spec.aead === 'chacha20-poly1305') throw new ProxyError('CONFIG', `${method} has no multi-user form`);
    map = new Map();
    for (const u of users) {
      const k = parsePsks(u.password, spec.keySize);
      if (typeof k === 'string' || k.length !== 1) throw new ProxyError('CONFIG', `user ${u.name}: ${typeof k === 'string' ? k : 'one key'}`);
      map.set(pskHash2022(k[0]).toString('hex'), { name: u.name, psk: k[0] });
    }
  }
  return { spec, key: Buffer.alloc(0), keys2022: { psk: psks[0], users: map } };
}
