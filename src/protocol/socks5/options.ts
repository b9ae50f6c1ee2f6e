import { z } from 'zod';
import { boolLike, textLike } from '../../config/values.js';
import { remoteProxyShape } from '../common/dial-options.js';
import { proxyTlsShape } from '../common/proxy-tls.js';

const utf8Max255 = (what: string) =>
  textLike.refine((v) => Buffer.byteLength(v, 'utf8') <= 255, { message: `${what} is limited to 255 bytes (RFC 1929)` });

/**
 * `type: socks5` as mihomo reads it (its Socks5Option). mihomo has no `sni` key for SOCKS5:
 * with `tls: true` the server name is `server`. Extra keys pass through, as mihomo ignores
 * them.
 */
export const socks5Schema = z.looseObject({
  ...remoteProxyShape,
  type: z.literal('socks5'),
  username: utf8Max255('username').optional(),
  password: utf8Max255('password').optional(),
  ...proxyTlsShape,
  udp: boolLike.optional(),
});

/** A validated `type: socks5` mapping. */
export type Socks5Options = z.output<typeof socks5Schema>;
