import { z } from 'zod';
import type { Logger } from '../../common/log.js';
import { boolLike, textLike } from '../../config/values.js';
import { ProxyError } from '../../core/errors.js';
import type { StreamLayer } from '../../core/stream-layer.js';
import type { TlsOptions } from '../tls.js';
import { obfsHttpLayer } from './obfs-http.js';
import { obfsTlsLayer } from './obfs-tls.js';
import { v2rayPluginLayers } from './v2ray-plugin.js';

/** What a plugin knows of its proxy. */
export interface PluginContext {
  readonly server: string;
  readonly port: number;
  readonly log: Logger;
  readonly proxyName: string;
  /** extra trust anchors (tests with a private CA) */
  readonly ca?: TlsOptions['ca'];
}

const obfsSchema = z.looseObject({ mode: textLike.optional(), host: textLike.optional() });
const v2raySchema = z.looseObject({
  mode: textLike.optional(),
  host: textLike.optional(),
  path: textLike.optional(),
  tls: boolLike.optional(),
  fingerprint: textLike.optional(),
  headers: z.record(z.string(), textLike).optional(),
  'skip-cert-verify': boolLike.optional(),
  mux: boolLike.optional(),
  'v2ray-http-upgrade': boolLike.optional(),
  'v2ray-http-upgrade-fast-open': boolLike.optional(),
});

/** The plugins we build (mihomo also knows shadow-tls and restls). */
export const PLUGINS: readonly string[] = ['obfs', 'v2ray-plugin'];

/**
 * Builds a Shadowsocks `plugin` with its `plugin-opts` as one StreamLayer (applied to the TCP
 * stream to the server, under the Shadowsocks cipher). Throws ProxyError('CONFIG') naming the
 * proxy for an unknown plugin, a bad mode or malformed options, as mihomo refuses them.
 */
export function buildPlugin(plugin: string, opts: Record<string, unknown>, ctx: PluginContext): StreamLayer {
  const who = `proxy "${ctx.proxyName}"`;
  const fail = (msg: string): never => {
    throw new ProxyError('CONFIG', `${who}: ${msg}`);
  };
  const parse = <T>(schema: z.ZodType<T>): T => {
    const r = schema.safeParse(opts ?? {});
    if (!r.success) fail(`plugin-opts: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`);
    return (r as { data: T }).data;
  };
  switch (plugin) {
    case 'obfs': {
      const o = parse(obfsSchema);
      const host = o.host || 'bing.com';
      if (o.mode === 'http') return obfsHttpLayer({ host, port: ctx.port });
      if (o.mode === 'tls') return obfsTlsLayer(host);
      return fail(`obfs mode ${JSON.stringify(o.mode ?? '')} not supported (use http or tls)`);
    }
    case 'v2ray-plugin': {
      const o = parse(v2raySchema);
      if (o.mode !== 'websocket') fail(`v2ray-plugin mode ${JSON.stringify(o.mode ?? '')} not supported (use websocket)`);
      const layers = v2rayPluginLayers({
        host: o.host || 'bing.com',
        path: o.path || '/',
        headers: Object.entries(o.headers ?? {}),
        tls: o.tls === true,
        skipCertVerify: o.tls === true && o['skip-cert-verify'] === true,
        fingerprint: o.tls ? o.fingerprint || undefined : undefined,
        mux: o.mux ?? true,
        httpUpgrade: o['v2ray-http-upgrade'] === true,
        httpUpgradeFastOpen: o['v2ray-http-upgrade-fast-open'] === true,
        ca: ctx.ca,
      });
      return {
        async wrap(inner, signal) {
          let s = inner;
          for (const l of layers) s = await l.wrap(s, signal);
          return s;
        },
      };
    }
    case 'shadow-tls':
    case 'restls':
      return fail(`plugin ${plugin} not supported yet`);
    default:
      return fail(`unknown plugin ${JSON.stringify(plugin)} (supported: ${PLUGINS.join(', ')})`);
  }
}
