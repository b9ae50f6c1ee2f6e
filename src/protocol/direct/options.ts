import { z } from 'zod';
import { IP_VERSIONS, type IpVersion } from '../../transport/system-dialer.js';

// A YAML number where a string is expected is taken as its text, as mihomo's weak decoding does.
const text = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());

/**
 * `type: direct` as mihomo reads it. Keys we do not use (udp, tfo, mptcp…) pass through:
 * mihomo ignores extra keys, and existing configs must load unchanged. `ip-version` is kept as
 * written because mihomo silently treats an unknown value as `dual`; {@link directIpVersion}
 * does the same and lets the builder warn.
 */
export const directSchema = z.looseObject({
  name: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1, { message: 'must not be empty' })),
  type: z.literal('direct'),
  'ip-version': text.optional(),
  'interface-name': text.optional(),
  'routing-mark': z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int(),
  ).optional(),
});

/** A validated `type: direct` mapping. */
export type DirectOptions = z.output<typeof directSchema>;

/** The IpVersion for an `ip-version` text; undefined when absent or unknown (mihomo: dual). */
export function directIpVersion(text: string | undefined): IpVersion | undefined {
  return IP_VERSIONS.find((v) => v === text);
}
