import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ProxyError } from '../core/errors.js';

/**
 * An HTTP/2 client session over an already established stream (TLS with ALPN h2, or cleartext
 * with prior knowledge). A TLS stream that did not negotiate h2 is refused, as mihomo does.
 * Session errors are owned here: they destroy the session (and so its streams), never the process.
 */
export function h2Session(inner: Duplex, scheme: 'http' | 'https', authority: string): http2.ClientHttp2Session {
  const alpn = (inner as Partial<TLSSocket>).alpnProtocol;
  if (scheme === 'https' && alpn !== undefined && alpn !== 'h2') {
    inner.destroy();
    throw new ProxyError('PROTOCOL', `HTTP/2: the server chose ALPN ${alpn || '(none)'}, want h2`);
  }
  const session = http2.connect(`${scheme}://${authority}`, {
    createConnection: () => inner,
    // a tunnel carries bulk data: large windows keep throughput up on long fat streams
    settings: { initialWindowSize: 4 << 20, enablePush: false },
  });
  // the connection window starts at 64 KiB: widen it so concurrent bulk streams are not starved
  session.once('connect', () => session.setLocalWindowSize(16 << 20));
  session.on('error', () => session.destroy());
  session.on('close', () => inner.destroy());
  inner.on('error', () => {});
  // EOF or loss of the stream below ends the connection: HTTP/2 has no half-closed transport,
  // and Node's session does not always notice a FIN on a stream it did not create
  const lost = (): void => {
    if (!session.destroyed) session.destroy(new ProxyError('DIAL_FAILED', 'HTTP/2 connection lost'));
  };
  inner.once('end', lost);
  inner.once('close', lost);
  return session;
}

/** Fails `stream` unless the response status is 200 (and, for gRPC, the content type fits). */
export function checkResponse(stream: http2.ClientHttp2Stream, what: string, grpc: boolean): void {
  stream.once('response', (headers) => {
    const status = Number(headers[':status']);
    if (status !== 200) {
      stream.destroy(new ProxyError('PROTOCOL', `${what}: server answered HTTP ${status}`));
      return;
    }
    if (grpc) {
      // a trailers-only answer is an immediate gRPC error
      const gs = headers['grpc-status'];
      if (gs !== undefined && gs !== '0') stream.destroy(new ProxyError('PROTOCOL', `${what}: grpc-status ${gs} ${headers['grpc-message'] ?? ''}`.trim()));
    }
  });
  if (grpc) {
    stream.once('trailers', (trailers) => {
      const gs = trailers['grpc-status'];
      if (gs !== undefined && gs !== '0') stream.destroy(new ProxyError('PROTOCOL', `${what}: grpc-status ${gs} ${trailers['grpc-message'] ?? ''}`.trim()));
    });
  }
}
