import type { Duplex } from 'node:stream';
import { FramedDuplex } from '../../transport/framed-duplex.js';
import type { HeadAndRest } from '../../transport/http-head.js';
import { WsCodec } from '../../transport/ws-codec.js';
import { acceptFor } from '../../transport/ws.js';

const NOT_FOUND = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';
// v2ray/Xray clients may carry the first bytes (base64url) in this header: "early data"
const EARLY_HEADER = 'sec-websocket-protocol';
const MAX_EARLY = 8 << 10;

/**
 * The server side of a WebSocket handshake whose request head was already read: checks the
 * path (`?query` ignored, as v2ray's `?ed=` rides there) and the upgrade headers, answers 101,
 * and returns the message stream (half-close aware, early data first). A wrong path or a
 * request that is not an upgrade gets an HTTP error and undefined; the socket is ended.
 */
export function acceptWebSocket(socket: Duplex, req: HeadAndRest, path: string): Duplex | undefined {
  const [method, target] = req.head.startLine.split(' ');
  const headers = req.head.headers;
  const key = headers.get('sec-websocket-key');
  const wantPath = path.startsWith('/') ? path : `/${path}`;
  const gotPath = (target ?? '').split('?')[0];
  if (method !== 'GET' || gotPath !== wantPath) {
    socket.end(NOT_FOUND);
    return undefined;
  }
  if (key === undefined || !/websocket/i.test(headers.get('upgrade') ?? '')) {
    socket.end(BAD_REQUEST);
    return undefined;
  }
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`];
  let early: Buffer | undefined;
  const proto = headers.get(EARLY_HEADER);
  if (proto !== undefined && proto.length <= (MAX_EARLY * 4) / 3 + 4 && /^[A-Za-z0-9_-]+=*$/.test(proto)) {
    early = Buffer.from(proto, 'base64url');
    lines.push(`Sec-WebSocket-Protocol: ${proto}`);
  }
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const stream = new FramedDuplex(socket, new WsCodec('server'), { leftover: req.rest });
  if (early !== undefined && early.length > 0) stream.unshift(early);
  return stream;
}
