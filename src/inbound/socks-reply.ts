import { ProxyError } from '../core/errors.js';
import { SOCKS5 } from './socks-codec.js';

/** How deep to follow `cause` / AggregateError chains; errors are never cyclic in practice, but bounded anyway. */
const MAX_DEPTH = 8;

/** System error codes and the SOCKS5 REP that tells the client the most. */
const ERRNO_REPLY: Readonly<Record<string, number>> = {
  ECONNREFUSED: SOCKS5.REP_CONNECTION_REFUSED,
  EHOSTUNREACH: SOCKS5.REP_HOST_UNREACHABLE,
  EHOSTDOWN: SOCKS5.REP_HOST_UNREACHABLE,
  ENETUNREACH: SOCKS5.REP_NETWORK_UNREACHABLE,
  ENETDOWN: SOCKS5.REP_NETWORK_UNREACHABLE,
  // A name that does not resolve is, to the client, a host it cannot reach.
  ENOTFOUND: SOCKS5.REP_HOST_UNREACHABLE,
  EAI_AGAIN: SOCKS5.REP_HOST_UNREACHABLE,
  // RFC 1928 has no "timed out"; TTL expired (0x06) is what Dante and others answer for
  // ETIMEDOUT, and it keeps timeouts distinguishable from refusals.
  ETIMEDOUT: SOCKS5.REP_TTL_EXPIRED,
};

/** Our own error codes that decide the answer by themselves (DIAL_FAILED does not: its cause does). */
const CODE_REPLY: Readonly<Record<string, number>> = {
  REJECTED: SOCKS5.REP_NOT_ALLOWED,
  DIAL_TIMEOUT: SOCKS5.REP_TTL_EXPIRED,
  RESOLVE_FAILED: SOCKS5.REP_HOST_UNREACHABLE,
};

/**
 * The SOCKS5 REP code for a failed connect: REJECT → 0x02 "not allowed by ruleset",
 * refused → 0x05, host / network unreachable → 0x04 / 0x03, timeouts → 0x06, anything
 * else → 0x01. The error's `cause` chain (and the first error of an AggregateError, which
 * Happy Eyeballs dialing produces) is searched for the first code that means something.
 */
export function socks5ReplyFor(err: unknown): number {
  let e: unknown = err;
  for (let depth = 0; depth < MAX_DEPTH && e !== null && typeof e === 'object'; depth++) {
    if (e instanceof ProxyError && CODE_REPLY[e.code] !== undefined) return CODE_REPLY[e.code];
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && ERRNO_REPLY[code] !== undefined) return ERRNO_REPLY[code];
    const errors = (e as { errors?: unknown }).errors;
    e = Array.isArray(errors) && errors.length > 0 ? errors[0] : (e as { cause?: unknown }).cause;
  }
  return SOCKS5.REP_GENERAL_FAILURE;
}
