import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';

/** The servers every conformance run talks to through the proxy under test. */
export interface Destinations {
  /** TCP echo (half-close aware) */
  readonly echoPort: number;
  /** says "hello", half-closes, then hashes what the client sends until it half-closes too */
  readonly greeterPort: number;
  readonly udpPort: number;
  /** server-side sockets of the echo still open (abort cases wait for this to drop) */
  liveEchoSockets(): number;
  /** sha256 of what the greeter received on its most recent connection, once the client ended */
  nextGreeterHash(): Promise<string>;
  close(): Promise<void>;
}

/** Starts the destinations on `host` (127.0.0.1 by default). */
export async function startDestinations(host = '127.0.0.1'): Promise<Destinations> {
  const sockets = new Set<net.Socket>();
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  echo.listen(0, host);
  await once(echo, 'listening');

  const hashes: ((h: string) => void)[] = [];
  const greeterSockets = new Set<net.Socket>();
  const greeter = net.createServer({ allowHalfOpen: true }, (s) => {
    greeterSockets.add(s);
    s.on('close', () => greeterSockets.delete(s));
    s.on('error', () => {});
    const h = createHash('sha256');
    s.on('data', (c: Buffer) => h.update(c));
    s.on('end', () => {
      hashes.shift()?.(h.digest('hex'));
      s.destroy();
    });
    s.end('hello');
  });
  greeter.listen(0, host);
  await once(greeter, 'listening');

  const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  udp.bind(0, host);
  await once(udp, 'listening');

  return {
    echoPort: (echo.address() as net.AddressInfo).port,
    greeterPort: (greeter.address() as net.AddressInfo).port,
    udpPort: udp.address().port,
    liveEchoSockets: () => sockets.size,
    nextGreeterHash: () => new Promise((r) => hashes.push(r)),
    async close() {
      for (const s of sockets) s.destroy();
      for (const s of greeterSockets) s.destroy();
      await Promise.all([
        new Promise((r) => echo.close(r)),
        new Promise((r) => greeter.close(r)),
        new Promise<void>((r) => udp.close(() => r())),
      ]);
    },
  };
}
