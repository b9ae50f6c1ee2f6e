import { z } from 'zod';
import { boolLike, nonEmptyText, textLike } from '../../config/values.js';
import { transportShape } from '../../transport/build.js';
import { remoteProxyShape } from '../common/dial-options.js';

/**
 * `type: trojan` as mihomo reads it, with the shared transport keys (sni, alpn,
 * skip-cert-verify, fingerprint, network ws/grpc…). TLS is always on. Refused at load, naming
 * the proxy: `ss-opts` with `enabled: true` (trojan-go's Shadowsocks layer is not built) and
 * any `flow` (XTLS).
 */
export const trojanSchema = z
  .looseObject({
    ...transportShape,
    ...remoteProxyShape,
    type: z.literal('trojan'),
    password: textLike,
    udp: boolLike.optional(),
    flow: textLike.optional(),
    'ss-opts': z.looseObject({ enabled: boolLike.optional(), method: textLike.optional(), password: textLike.optional() }).optional(),
  })
  .superRefine((o, ctx) => {
    if (o['ss-opts']?.enabled === true) {
      ctx.addIssue({ code: 'custom', path: ['ss-opts'], message: `ss-opts not supported yet (proxy "${o.name}")` });
    }
    const flow = o.flow?.trim() ?? '';
    if (flow !== '') ctx.addIssue({ code: 'custom', path: ['flow'], message: `flow ${flow} not supported yet (proxy "${o.name}")` });
  });

/** A validated `type: trojan` mapping. */
export type TrojanOptions = z.output<typeof trojanSchema>;
