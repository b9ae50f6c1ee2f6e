import type { Duplex } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import type { StreamLayer } from '../core/stream-layer.js';
import type { FrameCodec } from './framed-duplex.js';
import { FramedDuplex } from './framed-duplex.js';
import { readHead } from './http-head.js';
import { checkUpgrade, resolveEarlyData, upgradeRequest, type WsLayerOptions } from './ws.js';

/** HTTP Upgrade layer options: the ws ones plus fast open. */
export interface HttpUpgradeLayerOptions extends WsLayerOptions {
  /** mihomo's v2ray-http-upgrade-fast-open: write before the 101 answer arrived */
  readonly fastOpen: boolean;
}

/** After the upgrade the stream is raw: bytes pass unchanged, half-close is the stream's own. */
const RAW: FrameCodec = {
  encode: (chunk) => chunk,
  decode: (data, sink) => sink.push(data),
};

/**
 * v2ray's httpupgrade as a StreamLayer: an HTTP/1.1 `Upgrade: websocket` request without the
 * WebSocket key, a 101 answer, then the raw stream (no framing). Early data rides in the request
 * as for ws. Fast open hands the stream out before the answer: the first write goes with the
 * request and the answer is checked when it arrives (a refusal then destroys the stream).
 */
export function httpUpgradeLayer(o: HttpUpgradeLayerOptions): StreamLayer {
  const { maxEarlyData } = resolveEarlyData(o);
  return {
    async wrap(inner, signal) {
      if (maxEarlyData <= 0) {
        inner.write(upgradeRequest(o, undefined, undefined));
        if (!o.fastOpen) return new FramedDuplex(inner, RAW, { leftover: await checked(inner, signal) });
        const d = new FramedDuplex(inner, RAW, { deferRead: true });
        checked(inner, signal).then((rest) => d.beginReading(rest), (err: Error) => d.destroy(err));
        return d;
      }
      // early data: the request waits for the first write, whose first bytes it carries
      const d: FramedDuplex = new FramedDuplex(inner, RAW, {
        deferRead: o.fastOpen,
        start: async (first) => {
          const early = first?.subarray(0, maxEarlyData);
          const req = upgradeRequest(o, undefined, early);
          const after = first?.subarray(early?.length ?? 0);
          if (!o.fastOpen) {
            inner.write(req);
            const rest = await checked(inner, signal);
            if (after && after.length > 0) inner.write(after);
            return rest;
          }
          // one write: the request and the first bytes past the early data
          inner.write(after && after.length > 0 ? Buffer.concat([req, after]) : req);
          checked(inner, signal).then((rest) => d.beginReading(rest), (err: Error) => d.destroy(err));
          return undefined;
        },
      });
      return d;
    },
  };
}

/** Reads and checks the 101 answer; the bytes after it. */
async function checked(inner: Duplex, signal: AbortSignal): Promise<Buffer> {
  const { head, rest } = await readHead(inner, signal);
  try {
    checkUpgrade(head, undefined);
  } catch (err) {
    inner.destroy();
    throw err instanceof ProxyError ? err : new ProxyError('PROTOCOL', String(err));
  }
  return rest;
}
