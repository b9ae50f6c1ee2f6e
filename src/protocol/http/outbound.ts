import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { Dialer, Outbound } from '../../core/outbound.js';
import type { TlsOptions } from '../../transport/tls.js';
import type { WarmPoolLookup } from '../../transport/warm-connect.js';
import { proxyDialer } from '../common/dial-options.js';
import { proxyTls } from '../common/proxy-tls.js';
import type { ProxyDefinition } from '../registry.js';
import { encodeConnectRequest, type ConnectRequestOptions } from './codec/connect-request.js';
import { parseConnectResponse, type ResponseHead } from './codec/response-head.js';
import { httpSchema, type HttpOptions } from './options.js';
import { readMessage } from '../common/read-message.js';
import { withServerStream } from '../common/server-stream.js';

/** Everything an HTTP proxy outbound needs, resolved from its options. */
export interface HttpOutboundConfig {
  readonly name: string;
  readonly server: Address;
  /** the system dialer (or an ip-version one); a chain hop in the dial options wins */
  readonly dialer: Dialer;
  readonly connect: ConnectRequestOptions;
  /** TLS to the proxy itself (mihomo `tls: true`) */
  readonly tls?: TlsOptions;
  /** warm TLS connections to the proxy (clash-ts extension) */
  readonly warmPool?: WarmPoolLookup;
  /** bound on dial + TLS + CONNECT; default 5000 */
  readonly timeoutMs?: number;
}

/** The error for a refused CONNECT: `upstream answered 407 Proxy Authentication Required`.
 * 401 counts as an auth refusal too: tinyproxy answers a CONNECT with bad credentials so. */
function refusal(head: ResponseHead): ProxyError {
  const code = head.status === 407 || head.status === 401 ? 'AUTH' : 'DIAL_FAILED';
  return new ProxyError(code, `upstream answered ${head.status} ${head.reason}`.trimEnd());
}

/**
 * An HTTP proxy client (mihomo's `Http` adapter): every destination, plain HTTP included, goes
 * through a CONNECT tunnel. `dialTcp` resolves once the proxy answered 2xx, with the server
 * stream itself (no wrapper: the relay runs at socket speed); bytes the proxy sent after its
 * answer head are put back on the stream first.
 *
 * Trade-off: waiting for the answer costs one round trip before the first client byte moves
 * (a CONNECT could carry them optimistically), but the tunnel tells its client "connected"
 * only after this resolves, so a refusal still reaches the client as a refusal (a 502 on the
 * HTTP inbound, a SOCKS error reply) instead of as a silently closed connection.
 */
export function createHttpOutbound(c: HttpOutboundConfig): Outbound {
  const timeoutMs = c.timeoutMs ?? 5000;
  return {
    name: c.name,
    type: 'Http',
    udp: false,
    dialTcp(meta, opts): Promise<Duplex> {
      // built before dialing: a destination that cannot be written fails without a connection
      let request: Buffer;
      try {
        request = encodeConnectRequest(meta.destination, c.connect);
      } catch (err) {
        return Promise.reject(new ProxyError('PROTOCOL', `proxy "${c.name}": ${(err as Error).message}`, { cause: err }));
      }
      const server = { name: c.name, server: c.server, dialer: opts.dialer ?? c.dialer, tls: c.tls, warmPool: c.warmPool, timeoutMs };
      return withServerStream(server, opts.signal, async (stream, _raw, signal) => {
        stream.write(request);
        const head = await readMessage(stream, parseConnectResponse, signal, 'the answer to CONNECT');
        if (head.status < 200 || head.status > 299) throw refusal(head);
        return stream;
      });
    },
    dialUdp: () => Promise.reject(new ProxyError('UNSUPPORTED', `proxy "${c.name}": UDP is not supported by an HTTP proxy`)),
    close: async () => undefined,
  };
}

/**
 * `type: http` proxies. As mihomo: credentials are sent only when both username and password
 * are set; the TLS server name is `sni`, else `server`; `fingerprint` pins the certificate.
 */
export const httpDefinition: ProxyDefinition<HttpOptions> = {
  type: 'http',
  schema: httpSchema,
  create(o, deps) {
    const { username, password } = o;
    if ((username ? 1 : 0) + (password ? 1 : 0) === 1) {
      deps.log.warn(`proxy "${o.name}": username and password must both be set; connecting without authentication (as mihomo)`);
    }
    if (o.udp) deps.log.warn(`proxy "${o.name}": udp is not available through an HTTP proxy, ignored`);
    return createHttpOutbound({
      name: o.name,
      server: { host: o.server, port: o.port },
      dialer: proxyDialer(o, deps),
      connect: {
        headers: o.headers ? Object.entries(o.headers) : undefined,
        auth: username && password ? { username, password } : undefined,
      },
      ...proxyTls(o, o.sni || o.server, deps),
    });
  },
};
