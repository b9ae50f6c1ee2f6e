// Live tunnels through a core's SOCKS5 port to an echo server, each exchanging random chunks and
// keeping running hashes of what it sent and what came back, so a dropped or corrupted byte anywhere
// (inbound, relay, outbound) shows as a mismatch.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import type net from 'node:net';
import { socks5Connect } from '../support/socks-client.js';

/** One tunnel and its byte accounting. */
export class HashedTunnel {
  readonly socket: net.Socket;
  readonly #sent: Hash = createHash('sha256');
  readonly #got: Hash = createHash('sha256');
  sentBytes = 0;
  gotBytes = 0;
  /** resolves the round in progress once `gotBytes` reaches `#want` (or rejects on close) */
  #waiter: { want: number; resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    // one 'data' listener for the tunnel's life: a round adds none
    socket.on('data', (b: Buffer) => {
      this.#got.update(b);
      this.gotBytes += b.length;
      if (this.#waiter && this.gotBytes >= this.#waiter.want) {
        const w = this.#waiter;
        this.#waiter = undefined;
        w.resolve();
      }
    });
    socket.on('close', () => this.#waiter?.reject(new Error(`tunnel closed at ${this.gotBytes} of ${this.#waiter.want} bytes`)));
  }

  static async open(proxyPort: number, echoPort: number): Promise<HashedTunnel> {
    return new HashedTunnel(await socks5Connect(proxyPort, '127.0.0.1', echoPort));
  }

  /** Sends `size` random bytes and waits until the echo has caught up with everything sent. */
  round(size: number): Promise<void> {
    const chunk = randomBytes(size);
    this.#sent.update(chunk);
    this.sentBytes += size;
    const done = new Promise<void>((resolve, reject) => {
      if (this.gotBytes >= this.sentBytes) resolve();
      else this.#waiter = { want: this.sentBytes, resolve, reject };
    });
    this.socket.write(chunk);
    return done;
  }

  /** true when every byte sent came back, in order, unchanged */
  verify(): { ok: boolean; sent: number; got: number } {
    const a = this.#sent.copy().digest('hex');
    const b = this.#got.copy().digest('hex');
    return { ok: a === b && this.sentBytes === this.gotBytes, sent: this.sentBytes, got: this.gotBytes };
  }

  /** Half-closes and waits for the proxy to close its side. */
  async end(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once('close', () => resolve());
    });
    this.socket.end();
    await closed;
  }
}

/** Opens `n` tunnels, `width` handshakes at a time. */
export async function openTunnels(n: number, width: number, proxyPort: number, echoPort: number): Promise<HashedTunnel[]> {
  const out: HashedTunnel[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      next++;
      out.push(await HashedTunnel.open(proxyPort, echoPort));
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, width) }, lane));
  return out;
}

/** The SOCKS5 reply code a new connection gets (0 = connected, then closed). */
export async function replyCode(proxyPort: number, echoPort: number): Promise<number> {
  try {
    const s = await socks5Connect(proxyPort, '127.0.0.1', echoPort);
    s.destroy();
    return 0;
  } catch (err) {
    const rep = (err as { rep?: number }).rep;
    if (rep === undefined) throw err;
    return rep;
  }
}

/** A port held by a plain listener of this process, so a core that tries to bind it fails. */
export async function holdPort(): Promise<{ port: number; release(): void }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, release: () => void server.close() };
}
