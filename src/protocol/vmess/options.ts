import { z } from 'zod';
import { transportShape } from '../../transport/build.js';
import { SECURITY_NAMES } from './codec/session.js';

const text = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());
const int = z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v), z.number().int());
const bool = z.preprocess((v) => {
  if (typeof v === 'string') return ['true', 'yes', 'on', '1'].includes(v.trim().toLowerCase());
  if (typeof v === 'number') return v !== 0;
  return v;
}, z.boolean());

/**
 * `type: vmess` as mihomo reads it (its key names), plus the shared transport keys. Extra keys
 * pass (mihomo ignores them). Checks that need the proxy's name in the message (legacy alterId,
 * ciphers we do not build) are made here so they are reported with every other config error.
 */
export const vmessSchema = z
  .looseObject({
    ...transportShape,
    name: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1, { message: 'must not be empty' })),
    type: z.literal('vmess'),
    server: text.pipe(z.string().min(1, { message: 'must not be empty' })),
    port: int.pipe(z.number().min(1).max(65535)),
    uuid: text.pipe(z.string().min(1, { message: 'must not be empty' })),
    alterId: int.pipe(z.number().min(0)).default(0),
    /** mihomo requires it; absent here means auto */
    cipher: text.transform((s) => s.trim().toLowerCase()).default('auto'),
    udp: bool.default(false),
    xudp: bool.optional(),
    'packet-addr': bool.optional(),
    'packet-encoding': text.transform((s) => s.trim().toLowerCase()).optional(),
    'global-padding': bool.default(false),
    'authenticated-length': bool.default(false),
    tfo: bool.optional(),
    mptcp: bool.optional(),
    'interface-name': text.optional(),
    'routing-mark': int.optional(),
    'ip-version': text.optional(),
  })
  .superRefine((o, ctx) => {
    const who = `proxy "${o.name}"`;
    if (o.alterId > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['alterId'],
        message: `${who}: alterId ${o.alterId} (the legacy VMess header) is not supported; use alterId: 0 (VMess AEAD, which v2ray ≥ 4.28 servers accept)`,
      });
    }
    if (!(SECURITY_NAMES as readonly string[]).includes(o.cipher)) {
      const hint = o.cipher === 'aes-128-cfb' ? ' (legacy, needs alterId > 0)' : '';
      ctx.addIssue({
        code: 'custom',
        path: ['cipher'],
        message: `${who}: cipher ${JSON.stringify(o.cipher)}${hint} not supported; use auto, aes-128-gcm, chacha20-poly1305, none or zero`,
      });
    }
    const pe = o['packet-encoding'];
    if (pe !== undefined && !['', 'none', 'xudp', 'packetaddr', 'packet'].includes(pe)) {
      ctx.addIssue({ code: 'custom', path: ['packet-encoding'], message: `${who}: unknown packet-encoding ${JSON.stringify(pe)} (none, packetaddr or xudp)` });
    }
  });

/** A validated `type: vmess` mapping. */
export type VmessOptions = z.output<typeof vmessSchema>;

/** How UDP rides on VMess: mihomo's `packet-encoding` (and the older `xudp` / `packet-addr`). */
export type PacketEncoding = 'none' | 'xudp' | 'packetaddr';

/** The effective packet encoding, with mihomo's precedence: xudp over packetaddr over none. */
export function packetEncoding(o: VmessOptions): PacketEncoding {
  const pe = o['packet-encoding'];
  if (o.xudp === true || pe === 'xudp') return 'xudp';
  if (o['packet-addr'] === true || pe === 'packetaddr' || pe === 'packet') return 'packetaddr';
  return 'none';
}
