import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidr } from '../common/cidr.js';

// The one set of lenient value schemas: every config section and every proxy type's options
// take their booleans, strings, integers, ports and names from here, so a value means the same
// wherever it is written. mihomo decodes proxies with a weakly typed structure decoder (an int
// becomes a bool as non-zero, an int or float its decimal text, a string an int by ParseInt);
// older Clash configs also carry YAML 1.1 words (`yes`, `off`). These accept the union, so every
// config that loaded with any of the earlier per-file variants still loads.

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 't', '1', 'yes', 'y', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'f', '0', 'no', 'n', 'off', '']);

/**
 * A boolean. Also, trimmed and in any case: Go's ParseBool words (`"true"`, `"T"`, `"1"`,
 * `"false"`, `"F"`, `"0"`), the YAML 1.1 words `yes`/`no`/`on`/`off`/`y`/`n`, and `""` (false);
 * a number is true when non-zero. Any other string (`"maybe"`) is an error.
 */
export const boolLike = z.preprocess((v) => {
  if (typeof v === 'number') return Number.isFinite(v) ? v !== 0 : v;
  if (typeof v !== 'string') return v;
  const w = v.trim().toLowerCase();
  return TRUE_WORDS.has(w) ? true : FALSE_WORDS.has(w) ? false : v;
}, z.boolean());

/** A string; a YAML number or boolean is taken as its text (`password: 123456` → `"123456"`). */
export const textLike = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);

/** A string that must not be empty (after the leniencies of {@link textLike}). */
export const nonEmptyText = textLike.pipe(z.string().min(1, { message: 'must not be empty' }));

/** A name (proxy, group, listener): a non-empty string; a YAML number is taken as its text. */
export const nameLike = nonEmptyText;

const INT_TEXT = /^[-+]?(?:\d+|0x[0-9a-f]+|0o[0-7]+|0b[01]+)$/i;

/** The integer a numeric string spells (decimal, or 0x / 0o / 0b as Go's ParseInt base 0). */
function intOfText(s: string): number | undefined {
  const t = s.trim();
  if (!INT_TEXT.test(t)) return undefined;
  const neg = t.startsWith('-');
  const n = Number(t.replace(/^[-+]/, ''));
  return neg ? -n : n;
}

/**
 * An integer; a numeric string is accepted (`"443"`, `" 443 "`, `"0x1bb"`). A leading zero is
 * decimal (`"0443"` is 443), as clash-ts always read it; a fraction is an error.
 */
export const intLike = z.preprocess(
  (v) => (typeof v === 'string' ? (intOfText(v) ?? v) : v),
  z.number({ message: 'expected an integer' }).int({ message: 'expected an integer' }),
);

/** A non-negative integer (counts, sizes). */
export const countLike = intLike.pipe(z.number().min(0, { message: 'must not be negative' }));

/** A port 1..65535 (a proxy's server, a destination). */
export const portLike = intLike.pipe(
  z.number().min(1, { message: 'port must be 1..65535' }).max(65535, { message: 'port must be 1..65535' }),
);

/** A listening port 0..65535 (0: not started, or an ephemeral port, by the key's meaning). */
export const listenPortLike = intLike.pipe(
  z.number().min(0, { message: 'port must be 0..65535' }).max(65535, { message: 'port must be 0..65535' }),
);

/** A list of strings; one string (or number) alone is taken as a list of one (mihomo's weak decoding). */
export const textListLike = z.preprocess((v) => (typeof v === 'string' || typeof v === 'number' ? [v] : v), z.array(textLike));

/** A duration in seconds (a number, fractions allowed) or with a unit: `500ms`, `3s`, `1m`; → ms. */
export const durationMsLike = z.preprocess((v) => {
  if (typeof v === 'number') return v * 1000;
  if (typeof v !== 'string') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(v);
  if (!m) return v;
  const unit = (m[2] ?? 's').toLowerCase();
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000);
}, z.number().min(0, { message: 'expected a duration (seconds, or 500ms / 3s / 1m)' }));

/** A list of IP prefixes, validated, kept as written. */
export const cidrList = z.array(z.string()).superRefine((list, ctx) => {
  list.forEach((t, i) => {
    if (!parseCidr(t.trim())) ctx.addIssue({ code: 'custom', path: [i], message: `invalid IP prefix ${JSON.stringify(t)}` });
  });
});

/** An IP literal to bind to (no hostnames: mihomo's listeners take addresses only). */
export const bindIp = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IP address' });

/** An inbound user: `{ username, password }`. */
export const userSchema = z.object({ username: textLike, password: textLike });

/** A list of users for an inbound. */
export const userList = z.array(userSchema);

/** A user of an inbound. */
export type User = z.output<typeof userSchema>;
