import { z } from 'zod';
import { boolLike, countLike, nonEmptyText, textLike } from '../../config/values.js';
import { transportShape } from '../../transport/build.js';
import { remoteProxyShape } from '../common/dial-options.js';
import { SECURITY_NAMES } from './codec/session.js';

/**
 * `type: vmess` as mihomo reads it (its key names), plus the shared transport keys. Extra keys
 * pass (mihomo ignores them). Checks that need the proxy's name in the message (legacy alterId,
 * ciphers we do not build) are made here so they are reported with every other config error.
 */
export const vmessSchema = z
  .looseObject({
    ...transportShape,
    ...remoteProxyShape,
    type: z.literal('vmess'),
    uuid: nonEmptyText,
    alterId: countLike.default(0),
    /** mihomo requires it; absent here means auto */
    cipher: textLike.transform((s) => s.trim().toLowerCase()).default('auto'),
    udp: boolLike.default(false),
    xudp: boolLike.optional(),
    'packet-addr': boolLike.optional(),
    'packet-encoding': textLike.transform((s) => s.trim().toLowerCase()).optional(),
    'global-padding': boolLike.default(false),
    'authenticated-length': boolLike.default(false),
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
