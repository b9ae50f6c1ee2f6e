import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';

/** A started local server and how to stop it. */
export interface Local {
  readonly port: number;
  close(): Promise<void>;
}

/** TCP echo on host:0; half-close aware (ends after echoing everything). */
export async function tcpEcho(host = '127.0.0.1'): Promise<Local> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
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

/** UDP echo on host:0. */
export async function udpEcho(host = '127.0.0.1'): Promise<Local> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  sock.bind(0, host);
  await once(sock, 'listening');
  return {
    port: sock.address().port,
    async close() {
      await new Promise<void>((r) => sock.close(() => r()));
    },
  };
}

/**
 * An HTTP server: `GET /data/N` sends N bytes with their sha256 in `x-sha256`;
 * `POST /hash` answers the sha256 of the request body (chunked or not) and its length.
 */
export async function httpServer(host = '127.0.0.1'): Promise<Local & { served: Map<string, Buffer> }> {
  const served = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const m = /^\/data\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'GET' && m) {
      const body = Buffer.alloc(Number(m[1]));
      for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
      res.writeHead(200, { 'content-length': body.length, 'x-sha256': createHash('sha256').update(body).digest('hex') });
      res.end(body);
      return;
    }
    if (req.method === 'POST' && req.url === '/hash') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ sha256: h.digest('hex'), length: n })));
      return;
    }
    if (req.url === '/headers') {
      res.end(JSON.stringify(req.headers));
      return;
    }
    res.writeHead(404).end('not found');
  });
  server.keepAliveTimeout = 5000;
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
