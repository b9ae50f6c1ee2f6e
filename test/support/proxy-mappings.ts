import assert from 'node:assert/strict';
import type { ProxyRegistry } from '../../src/protocol/registry.js';

/** What a proxy type's mapping has, for tables that run the same values through every type. */
export interface TypeKeys {
  /** a minimal valid mapping (name `p`) */
  readonly base: Record<string, unknown>;
  /** it dials a server of its own: `server` and `port` */
  readonly remote: boolean;
  /** it takes mihomo's dial keys (ip-version, tfo, mptcp, interface-name, routing-mark) */
  readonly dial: boolean;
  readonly udp: boolean;
  readonly password: boolean;
}

const UUID = 'b831381d-6324-4d53-ad4f-8cda48b30811';
const remote = (type: string, extra: Record<string, unknown> = {}) => ({ name: 'p', type, server: 'srv.test', port: 1080, ...extra });

/** Every registered proxy type; {@link typesOf} fails when the registry has one not listed here. */
export const PROXY_TYPE_KEYS: Readonly<Record<string, TypeKeys>> = {
  direct: { base: { name: 'p', type: 'direct' }, remote: false, dial: true, udp: false, password: false },
  reject: { base: { name: 'p', type: 'reject' }, remote: false, dial: false, udp: false, password: false },
  ss: { base: remote('ss', { cipher: 'aes-128-gcm', password: 'pw' }), remote: true, dial: true, udp: true, password: true },
  vmess: { base: remote('vmess', { uuid: UUID }), remote: true, dial: true, udp: true, password: false },
  vless: { base: remote('vless', { uuid: UUID }), remote: true, dial: true, udp: true, password: false },
  trojan: { base: remote('trojan', { password: 'pw' }), remote: true, dial: true, udp: true, password: true },
  http: { base: remote('http'), remote: true, dial: true, udp: true, password: true },
  socks5: { base: remote('socks5'), remote: true, dial: true, udp: true, password: true },
};

/** The registry's types with their keys; asserts that every registered type is described. */
export function typesOf(registry: ProxyRegistry): [string, TypeKeys][] {
  const types = registry.types();
  assert.deepEqual([...types].sort(), Object.keys(PROXY_TYPE_KEYS).sort(), 'every registered proxy type needs an entry in PROXY_TYPE_KEYS');
  return types.map((t) => [t, PROXY_TYPE_KEYS[t]]);
}
