import { ProxyError } from '../core/errors.js';

/** Longest piece of user text quoted in an error: a 1 MB payload must not become a 1 MB message. */
const QUOTE_MAX = 80;

/**
 * Quotes user text for an error message, cut to a readable length. JSON quoting makes control
 * characters and trailing spaces visible, which is often exactly what is wrong with a payload.
 */
export function quote(text: string): string {
  const cut = text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
  return JSON.stringify(cut);
}

/** A rule that cannot be built: a config problem, so code CONFIG. */
export function ruleError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('CONFIG', message, cause === undefined ? undefined : { cause });
}

/** `invalid IP-CIDR payload "1.2.3/33": why`, the one shape every payload error takes. */
export function payloadError(type: string, payload: string, why?: string): ProxyError {
  return ruleError(`invalid ${type} payload ${quote(payload)}${why ? `: ${why}` : ''}`);
}
