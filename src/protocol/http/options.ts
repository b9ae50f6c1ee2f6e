import { z } from 'zod';
import { isHeaderName, isHeaderValue } from './codec/connect-request.js';
import { boolLike, textLike } from '../../config/values.js';
import { remoteProxyShape } from '../common/dial-options.js';
import { proxyTlsShape } from '../common/proxy-tls.js';

/** mihomo's `headers`: a mapping of header name → value, sent with every CONNECT. */
const headersField = z
  .record(z.string(), textLike)
  .superRefine((h, ctx) => {
    for (const [name, value] of Object.entries(h)) {
      if (!isHeaderName(name)) ctx.addIssue({ code: 'custom', path: [name], message: `invalid header name ${JSON.stringify(name)}` });
      else if (!isHeaderValue(value)) ctx.addIssue({ code: 'custom', path: [name], message: 'header value must not contain CR, LF or NUL' });
    }
  });

/**
 * `type: http` as mihomo reads it (its HttpOption). Extra keys pass through, as mihomo
 * ignores them; `udp` is accepted and means nothing (an HTTP proxy relays no UDP).
 */
export const httpSchema = z.looseObject({
  ...remoteProxyShape,
  type: z.literal('http'),
  username: textLike.optional(),
  password: textLike.optional(),
  ...proxyTlsShape,
  sni: textLike.optional(),
  headers: headersField.optional(),
  udp: boolLike.optional(),
});

/** A validated `type: http` mapping. */
export type HttpOptions = z.output<typeof httpSchema>;
