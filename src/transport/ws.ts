import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { ProxyError } from '../core/errors.js';
import type { StreamLayer } from '../core/stream-layer.js';
import { FramedDuplex } from './framed-duplex.js';
import { readHead, requestHead, type HttpHead } from './http-head.js';
import { WsCodec } from './ws-codec.js';

/** WebSocket layer options (already resolved from ws-opts by build.ts). */
export interface WsLayerOptions {
  /** the Host header */
  readonly host: string;
  /** request path, may carry a query; `?ed=N` turns on early data as mihomo/xray do */
  readonly path: string;
  /** extra request headers (Host excluded) */
  readonly headers: readonly (readonly [string, string])[];
  /** bytes of the first write to carry in the handshake (0: none) */
  readonly maxEarlyData: number;
  /** header for the early data; empty: appended to the path (v2ray's way) */
  readonly earlyDataHeaderName: string;
}

/** The path and early-data settings after mihomo's `?ed=N` rule: the query key moves into
 * max-early-data with the Sec-WebSocket-Protocol header (xray's convention). */
export function resolveEarlyData(o: WsLayerOptions): { path: string; query: string; maxEarlyData: number; headerName: string } {
  const q = o.path.indexOf('?');
  let path = q < 0 ? o.path : o.path.slice(0, q);
  let query = q < 0 ? '' : o.path.slice(q + 1);
  if (!path.startsWith('/')) path = '/' + path;
  let maxEarlyData = o.maxEarlyData;
  let headerName = o.earlyDataHeaderName;
  const params = new URLSearchParams(query);
  const ed = params.get('ed');
  if (ed && /^\d+$/.test(ed)) {
    maxEarlyData = Number(ed);
    headerName = 'Sec-WebSocket-Protocol';
    params.delete('ed');
    query = params.toString();
  }
  return { path, query, maxEarlyData, headerName };
}

/** resolveEarlyData by options object: a layer's options never change, and parsing the path
 * query per connection is wasted work. */
const resolved = new WeakMap<WsLayerOptions, ReturnType<typeof resolveEarlyData>>();

function resolvedFor(o: WsLayerOptions): ReturnType<typeof resolveEarlyData> {
  let r = resolved.get(o);
  if (r === undefined) {
    r = resolveEarlyData(o);
    resolved.set(o, r);
  }
  return r;
}

/** base64url without padding, as v2ray/xray read early data. */
export function encodeEarlyData(b: Buffer): string {
  return b.toString('base64url');
}

/** The Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
}

/** Checks a 101 answer to an Upgrade: websocket request. */
export function checkUpgrade(head: HttpHead, key: string | undefined): void {
  const h = head.headers;
  if (head.status !== 101) throw new ProxyError('PROTOCOL', `WebSocket upgrade refused: ${head.startLine.slice(0, 100)}`);
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(h.get('connection') ?? '') || (h.get('upgrade') ?? '').toLowerCase() !== 'websocket') {
    throw new ProxyError('PROTOCOL', 'WebSocket upgrade answered without Connection: upgrade / Upgrade: websocket');
  }
  if (key !== undefined && h.get('sec-websocket-accept') !== acceptFor(key)) {
    throw new ProxyError('PROTOCOL', 'WebSocket upgrade answered with a wrong Sec-WebSocket-Accept');
  }
}

/**
 * The Upgrade request, with early data (if any) in its header or path. `key` undefined: v2ray's
 * httpupgrade (no WebSocket key/version headers).
 */
export function upgradeRequest(o: WsLayerOptions, key: string | undefined, early: Buffer | undefined): Buffer {
  const r = resolvedFor(o);
  let path = r.path;
  const headers: [string, string][] = [['Host', o.host], ...o.headers.map(([k, v]) => [k, v] as [string, string])];
  headers.push(['Connection', 'Upgrade'], ['Upgrade', 'websocket']);
  if (key !== undefined) headers.push(['Sec-WebSocket-Key', key], ['Sec-WebSocket-Version', '13']);
  if (early && early.length > 0) {
    const text = encodeEarlyData(early);
    if (r.headerName) headers.push([r.headerName, text]);
    else path += text;
  }
  return requestHead('GET', r.query ? `${path}?${r.query}` : path, headers);
}

async function handshake(inner: Duplex, o: WsLayerOptions, early: Buffer | undefined, signal: AbortSignal): Promise<Buffer> {
  const key = randomBytes(16).toString('base64');
  inner.write(upgradeRequest(o, key, early));
  const { head, rest } = await readHead(inner, signal);
  try {
    checkUpgrade(head, key);
  } catch (err) {
    inner.destroy();
    throw err;
  }
  return rest;
}

/**
 * WebSocket as a StreamLayer. Without early data the handshake completes before the stream is
 * handed out. With early data (max-early-data, or `?ed=` in the path) the stream is handed out
 * at once and the handshake waits for the first write, whose first bytes ride in the request,
 * as mihomo does; the rest follows as frames.
 */
export function wsLayer(o: WsLayerOptions): StreamLayer {
  const { maxEarlyData } = resolveEarlyData(o);
  return {
    async wrap(inner, signal) {
      if (maxEarlyData <= 0) {
        const rest = await handshake(inner, o, undefined, signal);
        return new FramedDuplex(inner, new WsCodec('client'), { leftover: rest });
      }
      const codec = new WsCodec('client');
      const start = async (first: Buffer | undefined): Promise<Buffer | undefined> => {
        const early = first?.subarray(0, maxEarlyData);
        const rest = await handshake(inner, o, early, signal);
        if (first && first.length > maxEarlyData) inner.write(codec.encode(first.subarray(maxEarlyData)));
        return rest;
      };
      return new FramedDuplex(inner, codec, { start });
    },
  };
}
