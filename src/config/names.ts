/**
 * The outbounds every config has: valid group members and rule targets without being declared.
 * (mihomo also has COMPATIBLE, an internal placeholder no config should name.)
 */
export const BUILTIN_OUTBOUNDS: readonly string[] = ['DIRECT', 'REJECT', 'REJECT-DROP', 'PASS'];

/**
 * GLOBAL: the selector global mode uses. A rule may target it, and a config may define its own
 * `proxy-groups` entry named GLOBAL to choose its members (as mihomo allows); a proxy may not
 * take the name.
 */
export const GLOBAL_GROUP = 'GLOBAL';

/** Names no proxy may take. */
export const RESERVED_PROXY_NAMES: ReadonlySet<string> = new Set([...BUILTIN_OUTBOUNDS, GLOBAL_GROUP, 'COMPATIBLE']);

/** Names no group may take (GLOBAL is allowed: it replaces the built-in one). */
export const RESERVED_GROUP_NAMES: ReadonlySet<string> = new Set([...BUILTIN_OUTBOUNDS, 'COMPATIBLE']);
