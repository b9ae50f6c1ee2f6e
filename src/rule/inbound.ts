import type { Metadata } from '../core/metadata.js';
import type { Rule } from '../core/rule.js';
import { payloadError, quote } from './rule-error.js';

/**
 * Connection types IN-TYPE accepts, as mihomo's ParseType knows them. Ours are a subset (see
 * InboundType); the others are valid in a config and simply never match here.
 */
const KNOWN_TYPES: ReadonlySet<string> = new Set([
  'HTTP', 'HTTPS', 'SOCKS4', 'SOCKS5', 'SHADOWSOCKS', 'VMESS', 'VLESS', 'REDIR', 'TPROXY',
  'TROJAN', 'TUNNEL', 'TUN', 'TUIC', 'HYSTERIA2', 'ANYTLS', 'INNER',
]);

/**
 * IN-TYPE: the connection came in as one of the `/`-separated types, case-insensitive.
 * `SOCKS` means SOCKS4 or SOCKS5. `HTTP` is a plain proxied request only; a CONNECT tunnel
 * is `HTTPS`, as in mihomo (there is no alias covering both).
 */
export class InTypeRule implements Rule {
  readonly type = 'InType';
  readonly needsIp = false;
  /** upper-cased, as mihomo shows it */
  readonly payload: string;
  readonly #types: ReadonlySet<string>;
  constructor(
    text: string,
    readonly target: string,
  ) {
    const types = new Set<string>();
    for (const name of text.toUpperCase().split('/')) {
      if (name === 'SOCKS') types.add('SOCKS4').add('SOCKS5');
      else if (KNOWN_TYPES.has(name)) types.add(name);
      else throw payloadError('IN-TYPE', text, `unknown inbound type ${quote(name)}`);
    }
    this.#types = types;
    this.payload = text.toUpperCase();
  }
  match(meta: Metadata): boolean {
    return this.#types.has(meta.inbound.type);
  }
}

/** IN-USER: the authenticated user is one of the `/`-separated names (exact, case-sensitive). */
export class InUserRule implements Rule {
  readonly type = 'InUser';
  readonly needsIp = false;
  readonly #users: ReadonlySet<string>;
  constructor(
    readonly payload: string,
    readonly target: string,
  ) {
    // An empty entry matches connections without a user, as mihomo compares with ''.
    this.#users = new Set(payload.split('/'));
  }
  match(meta: Metadata): boolean {
    return this.#users.has(meta.inbound.user ?? '');
  }
}

/** IN-NAME: the listener's name is one of the `/`-separated names (exact, case-sensitive). */
export class InNameRule implements Rule {
  readonly type = 'InName';
  readonly needsIp = false;
  readonly #names: ReadonlySet<string>;
  constructor(
    readonly payload: string,
    readonly target: string,
  ) {
    this.#names = new Set(payload.split('/'));
  }
  match(meta: Metadata): boolean {
    return this.#names.has(meta.inbound.name);
  }
}
