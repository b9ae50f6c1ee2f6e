import { randomInt } from 'node:crypto';
import type { StreamLayer } from '../core/stream-layer.js';
import { checkResponse, h2Session } from './h2-session.js';

/** h2-opts, resolved. */
export interface H2LayerOptions {
  /** one is picked at random per connection, as the :authority */
  readonly hosts: readonly string[];
  readonly path: string;
}

/**
 * v2ray's "http" transport (mihomo's `network: h2`) as a StreamLayer: one HTTP/2 session per
 * connection over the TLS stream below, one PUT stream on it; what we write is the request body,
 * the response body is what we read. Ending our side ends the request body (END_STREAM), so
 * half-close passes through; the session closes with the stream.
 */
export function h2Layer(o: H2LayerOptions): StreamLayer {
  return {
    async wrap(inner) {
      const host = o.hosts[randomInt(o.hosts.length)];
      const session = h2Session(inner, 'https', host);
      const stream = session.request(
        { ':method': 'PUT', ':path': o.path.startsWith('/') ? o.path : `/${o.path}`, ':authority': host, 'accept-encoding': 'identity' },
        { endStream: false },
      );
      checkResponse(stream, 'h2', false);
      stream.on('close', () => session.close());
      session.once('close', () => stream.destroy());
      return stream;
    },
  };
}
