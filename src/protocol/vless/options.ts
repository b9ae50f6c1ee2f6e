import { z } from 'zod';
import { boolLike, nonEmptyText, textLike } from '../../config/values.js';
import { transportShape } from '../../transport/build.js';
import { remoteProxyShape } from '../common/dial-options.js';

/** `packet-encoding` values we build: xudp (mihomo's default) and plain length-prefixed UDP. */
export type VlessPacketEncoding = 'xudp' | 'none';

/**
 * `type: vless` as mihomo reads it, with the shared transport keys (tls, servername, ws-opts…).
 * Refused at load, naming the proxy: any `flow` (XTLS Vision is not built; mihomo ignores flow
 * over ws, so there it is only a warning at build), `packet-encoding: packetaddr`, and VLESS
 * `encryption` other than none.
 */
export const vlessSchema = z
  .looseObject({
    ...transportShape,
    ...remoteProxyShape,
    type: z.literal('vless'),
    uuid: nonEmptyText,
    flow: textLike.optional(),
    udp: boolLike.optional(),
    'packet-encoding': textLike.optional(),
    xudp: boolLike.optional(),
    'packet-addr': boolLike.optional(),
    encryption: textLike.optional(),
  })
  .superRefine((o, ctx) => {
    const flow = o.flow?.trim() ?? '';
    const ws = (o.network ?? '').trim().toLowerCase() === 'ws';
    if (flow !== '' && !ws) {
      ctx.addIssue({ code: 'custom', path: ['flow'], message: `flow ${flow} not supported yet (proxy "${o.name}")` });
    }
    const pe = (o['packet-encoding'] ?? '').trim().toLowerCase();
    if (pe === 'packetaddr' || pe === 'packet' || (o['packet-addr'] === true && o.xudp !== true && pe !== 'xudp' && pe !== 'none')) {
      ctx.addIssue({
        code: 'custom',
        path: ['packet-encoding'],
        message: `packet-encoding packetaddr not supported yet (proxy "${o.name}")`,
      });
    }
    const enc = (o.encryption ?? '').trim().toLowerCase();
    if (enc !== '' && enc !== 'none') {
      ctx.addIssue({ code: 'custom', path: ['encryption'], message: `VLESS encryption not supported yet (proxy "${o.name}")` });
    }
  });

/** A validated `type: vless` mapping. */
export type VlessOptions = z.output<typeof vlessSchema>;

/**
 * The UDP framing: mihomo sends VLESS UDP as XUDP unless told packetaddr, whatever else
 * `packet-encoding` says; `none` here asks for the plain length-prefixed form (one stream per
 * destination), which mihomo does not offer, for servers without Mux.Cool.
 */
export function vlessPacketEncoding(o: VlessOptions): VlessPacketEncoding {
  return (o['packet-encoding'] ?? '').trim().toLowerCase() === 'none' ? 'none' : 'xudp';
}
