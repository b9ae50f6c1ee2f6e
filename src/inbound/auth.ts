import type { CidrList } from '../common/cidr.js';

/** One configured proxy user (mihomo's `authentication: ["user:pass"]` or `listeners[].users`). */
export interface InboundUser {
  readonly username: string;
  readonly password: string;
}

/**
 * Who may use an inbound: the configured users, and the source prefixes that need no
 * credentials (`skip-auth-prefixes`). With no users every source is trusted.
 */
export class Authenticator {
  readonly #users: ReadonlyMap<string, string>;
  readonly #skip: CidrList;

  constructor(users: readonly InboundUser[], skipAuthPrefixes: CidrList) {
    this.#users = new Map(users.map((u) => [u.username, u.password]));
    this.#skip = skipAuthPrefixes;
  }

  /** True when a client at `sourceIp` must present credentials. */
  required(sourceIp: string): boolean {
    return this.#users.size > 0 && !this.#skip.contains(sourceIp);
  }

  /** True when the pair matches a configured user. */
  verify(username: string, password: string): boolean {
    const want = this.#users.get(username);
    return want !== undefined && want === password;
  }
}

/**
 * Decodes an HTTP `Proxy-Authorization: Basic …` value into user and password.
 * Returns undefined when it is missing, not Basic, not base64 or has no colon.
 */
export function parseBasicCredentials(header: string | undefined): InboundUser | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = plain.indexOf(':');
  if (colon < 0) return undefined;
  return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
}
