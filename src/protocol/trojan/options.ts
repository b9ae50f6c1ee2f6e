import { z } from 'zod';
import { transportShape } from '../../transport/build.js';

// mihomo decodes YAML weakly: numbers where strings are expected, "true" strings for booleans.
const text = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const port = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d{1,5}\s*$/.test(v) ? Number(v) : v),
  z.number().int().min(1).max(65535),
);

/**
 * `type: trojan` as mihomo reads it, with the shared transport keys (sni, alpn,
 * skip-cert-verify, fingerprint, network ws/grpc…). TLS is always on. Refused at load, naming
 * the proxy: `ss-opts` with `enabled: true` (trojan-go's Shadowsocks layer is not built) and
 * any `flow` (XTLS).
 */
export const trojanSchema = z
  .looseObject({
    ...transportShape,
    name: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string().min(1, { message: 'must not be empty' })),
    type: z.literal('trojan'),
    server: text.pipe(z.string().min(1, { message: 'must not be empty' })),
    port,
    password: text,
    udp: bool.optional(),
    flow: text.optional(),
    'ss-opts': z.looseObject({ enabled: bool.optional(), method: text.optional(), password: text.optional() }).optional(),
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
