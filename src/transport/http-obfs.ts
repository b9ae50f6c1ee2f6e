import { randomInt } from 'node:crypto';
import type { StreamLayer } from '../core/stream-layer.js';
import { FramedDuplex, type FrameCodec } from './framed-duplex.js';
import { readHead, requestHead } from './http-head.js';

/** http-opts, resolved. */
export interface HttpObfsLayerOptions {
  /** request method (default GET) */
  readonly method: string;
  /** one is picked at random per connection */
  readonly paths: readonly string[];
  /** each header's value is picked at random from its list; `Host` names the Host header */
  readonly headers: Readonly<Record<string, readonly string[]>>;
  /** Host when headers give none (the server address) */
  readonly host: string;
}

/** After the fake heads the stream is raw. */
const RAW: FrameCodec = {
  encode: (chunk) => chunk,
  decode: (data, sink) => sink.push(data),
};

const pick = <T>(list: readonly T[]): T => list[randomInt(list.length)];

/** The fake request head for a first payload of `bodyLength` bytes. */
export function httpObfsRequest(o: HttpObfsLayerOptions, bodyLength: number): Buffer {
  let host = o.host;
  const headers: [string, string][] = [];
  for (const [k, list] of Object.entries(o.headers)) {
    if (list.length === 0) continue;
    if (k.toLowerCase() === 'host') host = pick(list);
    else if (k.toLowerCase() !== 'content-length') headers.push([k, pick(list)]);
  }
  let path = pick(o.paths);
  if (!path.startsWith('/')) path = '/' + path;
  return requestHead(o.method, path, [['Host', host], ...headers, ['Content-Length', String(bodyLength)]]);
}

/**
 * mihomo's `network: http` as a StreamLayer: the first write goes out as the body of a fake
 * HTTP/1.1 request (method, a random path and random header values from http-opts); the first
 * HTTP head the server sends back is stripped (its status is not checked, as mihomo does not);
 * after that bytes pass unchanged both ways.
 */
export function httpObfsLayer(o: HttpObfsLayerOptions): StreamLayer {
  return {
    async wrap(inner, signal) {
      const d: FramedDuplex = new FramedDuplex(inner, RAW, {
        deferRead: true,
        start: async (first) => {
          const body = first ?? Buffer.alloc(0);
          const head = httpObfsRequest(o, body.length);
          inner.write(body.length > 0 ? Buffer.concat([head, body]) : head);
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
