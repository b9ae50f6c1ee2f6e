import { once } from 'node:events';
import net from 'node:net';
import { socks5Connect } from '../support/socks-client.js';

/** A TCP server that reads a client's bytes to its FIN, then answers `reply` bytes and ends. */
export interface SinkReply {
  readonly port: number;
  /** bytes received from every client so far */
  received: number;
  close(): Promise<void>;
}

/** Starts a SinkReply on 127.0.0.1:0. */
export async function sinkReply(reply: number): Promise<SinkReply> {
  const sockets = new Set<net.Socket>();
  const body = Buffer.alloc(reply, 0x5a);
  const state = { received: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (state.received += c.length));
    s.on('end', () => s.end(body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get received() {
      return state.received;
    },
    set received(v: number) {
      state.received = v;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Through the SOCKS5 proxy: sends `upload` bytes, half-closes, returns how many bytes came back. */
export async function exchange(proxyPort: number, targetPort: number, upload: number): Promise<number> {
  const sock = await socks5Connect(proxyPort, '127.0.0.1', targetPort);
  let got = 0;
  sock.on('data', (c: Buffer) => (got += c.length));
  sock.end(Buffer.alloc(upload, 0xa5));
  await Promise.race([once(sock, 'close'), new Promise((_, rej) => setTimeout(() => rej(new Error('exchange timed out')), 10_000).unref())]);
  return got;
}

/** Runs `n` calls of `f`, `width` at a time. */
export async function inParallel<T>(n: number, width: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await f(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, n) }, lane));
  return out;
}

/** Polls `f` every 25 ms until it returns true, at most `timeoutMs`; then returns its last answer. */
export async function eventually(f: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}
