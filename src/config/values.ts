import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCidr } from '../common/cidr.js';

// Shared field schemas. mihomo decodes YAML into Go types with some leniency (numbers where a
// string is expected, YAML 1.1 booleans); these accept the same so existing configs load.

const TRUE_WORDS = new Set(['true', 'yes', 'on', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'off', 'n']);

/** A boolean; also the YAML 1.1 words (`yes`, `off`…) older Clash configs still use. */
export const boolLike = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const w = v.trim().toLowerCase();
  return TRUE_WORDS.has(w) ? true : FALSE_WORDS.has(w) ? false : v;
}, z.boolean());

/** A port 0..65535 (0: not started, or an ephemeral port); a numeric string is accepted. */
export const portLike = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d{1,5}\s*$/.test(v) ? Number(v) : v),
  z.number().int().min(0).max(65535),
);

/** A name (proxy, group, listener): a non-empty string; a YAML number is taken as its text. */
export const nameLike = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().min(1, { message: 'must not be empty' }),
);

/** A string; a YAML number or boolean is taken as its text (as mihomo's weak decoding does). */
export const textLike = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string(),
);

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
