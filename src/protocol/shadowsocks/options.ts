import { z } from 'zod';
import { createLogger } from '../../common/log.js';
import { boolLike, intLike, textLike } from '../../config/values.js';
import { errorMessage } from '../../core/errors.js';
import { buildPlugin, PLUGINS } from '../../transport/plugin/index.js';
import { remoteProxyShape } from '../common/dial-options.js';
import { parsePsks } from './codec/kdf.js';
import { findMethod } from './codec/methods.js';

// plugin-opts are checked at load by building the layer once (pure, cheap), so a bad mode or
// option is a config error with its path rather than a failure at start
const quiet = createLogger('silent');

/**
 * `type: ss` as mihomo reads it. Refused at load, naming the proxy: an unknown or unavailable
 * cipher, a 2022 password that is not base64 keys of the cipher's size, a plugin other than
 * obfs / v2ray-plugin or with options it cannot take, and a udp-over-tcp-version other than
 * 1 or 2 (mihomo's rules).
 * The dial keys are the shared ones (common/dial-options.ts); smux is accepted and ignored with
 * a warning by the definition.
 */
export const ssSchema = z
  .looseObject({
    ...remoteProxyShape,
    type: z.literal('ss'),
    cipher: textLike,
    password: textLike.optional(),
    udp: boolLike.optional(),
    plugin: textLike.optional(),
    'plugin-opts': z.record(z.string(), z.unknown()).optional(),
    'udp-over-tcp': boolLike.optional(),
    'udp-over-tcp-version': intLike.optional(),
    'client-fingerprint': textLike.optional(),
  })
  .superRefine((o, ctx) => {
    const m = findMethod(o.cipher.trim());
    if ('unsupported' in m) {
      ctx.addIssue({ code: 'custom', path: ['cipher'], message: `${m.unsupported} (proxy "${o.name}")` });
    } else if (m.kind === 'aead2022') {
      const keys = parsePsks(o.password ?? '', m.keySize);
      if (typeof keys === 'string') ctx.addIssue({ code: 'custom', path: ['password'], message: `${keys} (proxy "${o.name}")` });
      else if (keys.length > 1 && m.aead === 'chacha20-poly1305') {
        ctx.addIssue({ code: 'custom', path: ['password'], message: `${m.name} has no multi-user (iPSK:uPSK) form (proxy "${o.name}")` });
      }
    } else if (m.kind !== 'none' && (o.password ?? '') === '') {
      ctx.addIssue({ code: 'custom', path: ['password'], message: `missing password (proxy "${o.name}")` });
    }
    const plugin = o.plugin?.trim() ?? '';
    if (plugin !== '') {
      try {
        buildPlugin(plugin, o['plugin-opts'] ?? {}, { server: o.server, port: o.port, log: quiet, proxyName: o.name });
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: [PLUGINS.includes(plugin) ? 'plugin-opts' : 'plugin'], message: errorMessage(err) });
      }
    }
    const v = o['udp-over-tcp-version'];
    if (v !== undefined && v !== 0 && v !== 1 && v !== 2) {
      ctx.addIssue({ code: 'custom', path: ['udp-over-tcp-version'], message: `unknown udp over tcp protocol version: ${v} (proxy "${o.name}")` });
    }
  });

/** A validated `type: ss` mapping. */
export type SsOptions = z.output<typeof ssSchema>;
