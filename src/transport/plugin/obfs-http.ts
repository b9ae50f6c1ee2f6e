import { randomBytes, randomInt } from 'node:crypto';
import type { StreamLayer } from '../../core/stream-layer.js';
import { FramedDuplex, type FrameCodec } from '../framed-duplex.js';
import { readHead, requestHead } from '../http-head.js';

/** simple-obfs http: where the fake request points. */
export interface ObfsHttpOptions {
  /** `obfs-host` (mihomo's `host`, default bing.com) */
  readonly host: string;
  /** the proxy server's port: the Host header carries it unless it is 80 */
  readonly port: number;
}

/** After the fake heads the stream is raw. */
const RAW: FrameCodec = {
  encode: (chunk) => chunk,
  decode: (data, sink) => sink.push(data),
};

/**
 * The fake request simple-obfs' client sends: a GET with `Upgrade: websocket`, a random
 * curl User-Agent and WebSocket key, and the first payload as its body.
 */
export function obfsHttpRequest(o: ObfsHttpOptions, body: Buffer): Buffer {
  const head = requestHead('GET', '/', [
    ['Host', o.port === 80 ? o.host : `${o.host}:${o.port}`],
    ['User-Agent', `curl/7.${randomInt(54)}.${randomInt(2)}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', randomBytes(16).toString('base64')],
    ['Content-Length', String(body.length)],
  ]);
  return body.length > 0 ? Buffer.concat([head, body]) : head;
}

/**
 * simple-obfs `obfs=http` as a StreamLayer: the stream is handed out at once; the first write
 * goes out as the body of the fake request; the server's fake `101` head is stripped from what
 * comes back (its status is not checked, as simple-obfs does not). Then bytes pass unchanged.
 */
export function obfsHttpLayer(o: ObfsHttpOptions): StreamLayer {
  return {
    async wrap(inner, signal) {
      const d: FramedDuplex = new FramedDuplex(inner, RAW, {
        deferRead: true,
        start: async (first) => {
          inner.write(obfsHttpRequest(o, first ?? Buffer.alloc(0)));
          readHead(inner, signal).then(
            ({ rest }) => d.beginReading(rest),
            (err: Error) => d.destroy(err),
          );
          return undefined;
        },
      });
      return d;
    },
  };
}
