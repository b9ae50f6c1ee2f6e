import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { unmapIPv4, type Address } from '../../core/address.js';
import { FramedDuplex } from '../../transport/framed-duplex.js';
import { GunCodec } from '../../transport/gun-codec.js';

function swallow(): void {}

/** How long a finished stream may take to flush before it is reset after all. */
const FLUSH_MS = 10_000;

/**
 * The framing layer destroys the stream below once both its sides are done, and Node calls our
 * writes done when they are queued, before HTTP/2 flow control lets them out: a reset then drops
 * the tail of the response. A clean destroy of a stream we ended therefore waits (bounded) for
 * the stream to close by itself, which it does once everything is sent.
 */
function graceful(stream: http2.ServerHttp2Stream): void {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (err?: Error): http2.ServerHttp2Stream => {
    if (err !== undefined || !stream.writableEnded || stream.closed) return destroy(err);
    const timer = setTimeout(destroy, FLUSH_MS);
    timer.unref();
    stream.once('close', () => clearTimeout(timer));
    return stream;
  };
}

/**
 * A gRPC "gun" endpoint (v2ray/Xray's grpc transport): an HTTP/2 server that is never bound
 * itself; connections (cleartext or already-decrypted TLS) are handed to it with `accept`.
 * Each `POST /<service>/Tun` stream becomes one client stream; anything else gets 404.
 */
export class GrpcAcceptor {
  readonly #server: http2.Http2Server;
  readonly #sessions = new Set<http2.ServerHttp2Session>();

  constructor(serviceName: string, onStream: (stream: Duplex, source: Address | undefined) => void, handshakeTimeoutMs: number) {
    const path = `/${serviceName}/Tun`;
    this.#server = http2.createServer();
    this.#server.on('error', swallow);
    this.#server.on('session', (s) => {
      this.#sessions.add(s);
      s.on('error', swallow);
      // the handshake deadline runs until the session's first stream (an HTTP/2 client that
      // never opens one would otherwise hold its connection forever)
      const deadline = setTimeout(() => s.destroy(), handshakeTimeoutMs);
      deadline.unref();
      s.once('stream', () => clearTimeout(deadline));
      s.once('close', () => {
        clearTimeout(deadline);
        this.#sessions.delete(s);
      });
    });
    this.#server.on('stream', (stream, headers) => {
      stream.on('error', swallow);
      if (headers[':method'] !== 'POST' || headers[':path'] !== path) {
        stream.respond({ ':status': 404 }, { endStream: true });
        return;
      }
      // gun ends with trailers: grpc-status 0 once our side of the stream is done
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      graceful(stream);
      const sock = stream.session?.socket;
      const ip = sock?.remoteAddress;
      const source = ip !== undefined && sock?.remotePort !== undefined ? { host: unmapIPv4(ip), port: sock.remotePort } : undefined;
      onStream(new FramedDuplex(stream, new GunCodec()), source);
    });
  }

  /** Serves HTTP/2 on `socket` (its buffered bytes, e.g. a sniffed preface, included). */
  accept(socket: Duplex): void {
    this.#server.emit('connection', socket);
  }

  /** Stops new streams on every session; streams already handed out finish on their own. */
  close(): void {
    for (const s of this.#sessions) s.close();
  }
}
