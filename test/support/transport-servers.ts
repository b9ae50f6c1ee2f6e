// Test-only servers and an Outbound for running the conformance suite through a bare transport
// layer: the "protocol" is one line "host port\n" naming the destination, read by a relay that
// sits behind the transport's server (ours, or a real peer such as obfs-server).
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Outbound } from '../../src/core/outbound.js';
import { FramedDuplex, type FrameCodec } from '../../src/transport/framed-duplex.js';
import { GunCodec } from '../../src/transport/gun-codec.js';
import { WsCodec } from '../../src/transport/ws-codec.js';
import { acceptFor } from '../../src/transport/ws.js';

/** A started server and how to stop it. */
export interface Running {
  readonly port: number;
  close(): Promise<void>;
}

/** Pipes two sockets both ways with half-close; destroying one destroys the other. */
export function relay(a: Duplex, b: Duplex): void {
  a.on('error', () => {});
  b.on('error', () => {});
  a.pipe(b);
  b.pipe(a);
  // a leg that closed after its end was piped on lets the other finish flushing; a leg that
  // closed early (reset, abort) takes the other down
  a.on('close', () => !b.writableEnded && b.destroy());
  b.on('close', () => !a.writableEnded && a.destroy());
}

/**
 * The relay behind the transport's server: reads "host port[ framed]\n" (at most 300 bytes),
 * connects there, then relays with half-close. "framed": what the client sends after the header
 * is u16-length-prefixed chunks and a zero length means end of stream (an in-band EOF for peers
 * that close both directions on a FIN, as libev-based servers do).
 */
export async function startHeaderRelay(host = '127.0.0.1'): Promise<Running> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > 300) s.destroy();
        return;
      }
      s.off('data', onData);
      s.pause();
      const [h, p, mode] = buf.subarray(0, nl).toString().split(' ');
      const rest = buf.subarray(nl + 1);
      const up = net.connect({ host: h, port: Number(p), allowHalfOpen: true });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      if (mode === 'framed') {
        up.on('error', () => {});
        up.on('close', () => s.destroy());
        s.on('close', () => up.destroy());
        // in framed mode a FIN before the in-band EOF means the client went away
        s.on('end', () => {
          if (!up.writableEnded) up.destroy();
        });
        up.pipe(s);
        let pending: Buffer = rest;
        const feed = (c: Buffer): void => {
          pending = pending.length ? Buffer.concat([pending, c]) : c;
          while (pending.length >= 2) {
            const len = pending.readUInt16BE(0);
            if (len === 0) {
              up.end();
              s.off('data', feed);
              return;
            }
            if (pending.length < 2 + len) return;
            up.write(pending.subarray(2, 2 + len));
            pending = pending.subarray(2 + len);
          }
        };
        s.on('data', feed);
        if (rest.length) feed(Buffer.alloc(0));
        s.resume();
        return;
      }
      if (rest.length) up.write(rest);
      relay(s, up);
      s.resume();
    };
    s.on('data', onData);
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The client side of the relay's "framed" mode: length-prefixed writes, end = a zero length. */
const FRAMED: FrameCodec = {
  encode(chunk) {
    const out: Buffer[] = [];
    for (let i = 0; i < chunk.length; i += 0xffff) {
      const part = chunk.subarray(i, i + 0xffff);
      out.push(Buffer.from([part.length >> 8, part.length & 0xff]), part);
    }
    return out;
  },
  decode: (data, sink) => sink.push(data),
  finish: () => ({ bytes: Buffer.from([0, 0]), endInner: false }),
};

/**
 * An Outbound that opens a transport stream with `open` and names the destination in the
 * relay's one-line header, sent with the first bytes. `framed`: EOF travels in-band.
 */
export function headerOutbound(name: string, open: (signal: AbortSignal) => Promise<Duplex>, framed = false): Outbound {
  return {
    name,
    type: 'Test',
    udp: false,
    async dialTcp(meta, opts) {
      const s = await open(opts.signal);
      s.write(`${meta.destination.host} ${meta.destination.port}${framed ? ' framed' : ''}\n`);
      return framed ? new FramedDuplex(s, FRAMED) : s;
    },
    async dialUdp() {
      throw new Error('no UDP');
    },
    close: async () => undefined,
  };
}

/** Options of our own WebSocket / httpupgrade server. */
export interface WsServerOptions {
  /** where each accepted stream is relayed (a header relay) */
  readonly target: number;
  /** serve TLS with these PEMs */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** v2ray httpupgrade: no framing after the 101 */
  readonly upgradeOnly?: boolean;
  /** header carrying early data (base64url), as v2ray/xray servers read it */
  readonly earlyDataHeader?: string;
  /** every request head seen, for assertions */
  readonly seen?: { url: string; headers: Record<string, string | string[] | undefined> }[];
}

/**
 * A WebSocket server built on node:http and our server-side codec (half-close aware, unlike
 * most servers): the test peer for the conformance runs over ws and httpupgrade.
 */
export async function startWsServer(o: WsServerOptions): Promise<Running> {
  const sockets = new Set<Duplex>();
  const notFound = (_req: http.IncomingMessage, res: http.ServerResponse): void => void res.writeHead(404).end();
  const server = o.tls ? https.createServer({ ...o.tls }, notFound) : http.createServer(notFound);
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    o.seen?.push({ url: req.url ?? '', headers: req.headers });
    const key = req.headers['sec-websocket-key'];
    const lines = ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket'];
    if (!o.upgradeOnly) {
      if (typeof key !== 'string') return socket.destroy();
      lines.push(`Sec-WebSocket-Accept: ${acceptFor(key)}`);
    }
    let early: Buffer | undefined;
    if (o.earlyDataHeader) {
      const v = req.headers[o.earlyDataHeader.toLowerCase()];
      if (typeof v === 'string' && v) {
        early = Buffer.from(v, 'base64url');
        if (o.earlyDataHeader.toLowerCase() === 'sec-websocket-protocol') lines.push(`Sec-WebSocket-Protocol: ${v}`);
      }
    }
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    const up = net.connect({ port: o.target, host: '127.0.0.1', allowHalfOpen: true });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    if (early) up.write(early);
    const stream: Duplex = o.upgradeOnly
      ? socket
      : new FramedDuplex(socket, new WsCodec('server'), { leftover: head });
    if (o.upgradeOnly && head.length) up.write(head);
    relay(stream, up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Options of our HTTP/2 test server (v2ray's h2 transport, or gun). */
export interface H2ServerOptions {
  readonly target: number;
  readonly mode: 'h2' | 'grpc';
  /** TLS PEMs (ALPN h2); cleartext HTTP/2 with prior knowledge without */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** every request's headers, for assertions */
  readonly seen?: http2.IncomingHttpHeaders[];
  /** sessions accepted so far, for the session reuse assertions */
  readonly sessions?: { count: number };
}

/**
 * An HTTP/2 server relaying each stream to `target`: h2 mode passes the bodies through
 * (v2ray's "http" transport), grpc mode speaks gun with our codec and ends with grpc-status 0.
 */
export async function startH2Server(o: H2ServerOptions): Promise<Running> {
  const server = o.tls ? http2.createSecureServer({ ...o.tls, allowHTTP1: false }) : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    if (o.sessions) o.sessions.count++;
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    o.seen?.push(headers);
    stream.on('error', () => {});
    const up = net.connect({ port: o.target, host: '127.0.0.1', allowHalfOpen: true });
    if (o.mode === 'h2') {
      stream.respond({ ':status': 200 });
      relay(stream, up);
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    relay(new FramedDuplex(stream, new GunCodec()), up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sessions) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/**
 * The server end of mihomo's `network: http` (v2ray's HTTP header obfuscation): reads one
 * request head, answers a fake 200 head, then relays raw bytes (the request body onward).
 */
export async function startHttpObfsServer(o: { target: number; seen?: string[] }): Promise<Running> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const at = buf.indexOf('\r\n\r\n');
      if (at < 0) return void (buf.length > 8192 && s.destroy());
      s.off('data', onData);
      s.pause();
      o.seen?.push(buf.subarray(0, at).toString('latin1'));
      s.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: keep-alive\r\n\r\n');
      const up = net.connect({ port: o.target, host: '127.0.0.1', allowHalfOpen: true });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      const rest = buf.subarray(at + 4);
      if (rest.length) up.write(rest);
      relay(s, up);
      s.resume();
    };
    s.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
