import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../src/common/log.js';
import { formatAddress, type Address } from '../../src/core/address.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Dialer } from '../../src/core/outbound.js';
import { SaltFilter } from '../../src/protocol/shadowsocks/codec/replay.js';
import { uotVersionOf } from '../../src/protocol/shadowsocks/codec/uot.js';
import { serverKeys, type ServerUser } from '../../src/protocol/shadowsocks/server-keys.js';
import { serverStream } from '../../src/protocol/shadowsocks/server-stream.js';
import { relayUot, startUdpRelay, type UdpRelay } from '../../src/protocol/shadowsocks/server-udp.js';

/** Options of {@link startSsServer}. */
export interface SsServerOptions {
  /** the cipher (any method the outbound supports) */
  readonly method: string;
  /** pre-2022: the password; 2022: the base64 PSK (the identity PSK when `users` are given) */
  readonly password: string;
  /** 2022 AES methods: users by uPSK (SIP023 identity headers) */
  readonly users?: readonly ServerUser[];
  /** default 127.0.0.1 */
  readonly host?: string;
  /** default 0 (any free port) */
  readonly port?: number;
  /** relay UDP on the same port (default true) */
  readonly udp?: boolean;
  /** how destinations are reached (the system dialer) */
  readonly dialer: Dialer;
  readonly log: Logger;
  /** a client must finish its header within this; default 10 s */
  readonly handshakeTimeoutMs?: number;
  /** a UDP association idle this long is closed; default 60 s */
  readonly udpIdleMs?: number;
}

/** A running Shadowsocks server. */
export interface SsServer {
  /** the bound TCP (and UDP) address */
  address(): Address;
  /** client connections open right now */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A minimal Shadowsocks server: every method the outbound speaks, TCP relay with half-close,
 * UDP relay, UDP-over-TCP (versions 1 and 2), salt replay protection and, for 2022, identity
 * headers (multi-user). Destinations are reached through `dialer`. A client whose header
 * fails is not told how far it got: the server ends its side and drains until the client
 * leaves or the handshake timeout passes.
 */
export async function startSsServer(opts: SsServerOptions): Promise<SsServer> {
  const keys = serverKeys(opts.method, opts.password, opts.users);
  const filter = new SaltFilter();
  const log = opts.log;
  const timeoutMs = opts.handshakeTimeoutMs ?? 10_000;
  const clients = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    handle(socket);
  });

  function handle(socket: net.Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => undefined); // the CipherDuplex reports; this keeps late errors owned
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    const ctl = new AbortController();
    const conn = serverStream(socket, keys, filter, {
      onRequest(dest, user) {
        clearTimeout(timer);
        conn.pause(); // hold the payload until the destination is connected
        void forward(conn, dest, user, peer, ctl.signal);
      },
      onReject(err) {
        log.warn(`[Shadowsocks] ${peer} rejected: ${errorMessage(err)}`);
        socket.end(); // FIN, then drain until the client goes or the timer fires
        conn.resume(); // nothing comes out any more; let its end (the client's FIN) through
      },
    });
    conn.on('error', (err) => log.debug(`[Shadowsocks] ${peer}: ${errorMessage(err)}`));
    conn.on('close', () => {
      clearTimeout(timer);
      ctl.abort();
    });
  }

  async function forward(conn: Duplex, dest: Address, user: string | undefined, peer: string, signal: AbortSignal): Promise<void> {
    const who = user ? `${peer} (${user})` : peer;
    const version = uotVersionOf(dest);
    if (version !== undefined) {
      log.debug(`[Shadowsocks] ${who} UDP over TCP v${version}`);
      relayUot(conn, version, opts.dialer, signal);
      return;
    }
    let remote: Duplex;
    try {
      remote = await opts.dialer.dialTcp(dest, signal);
    } catch (err) {
      log.warn(`[Shadowsocks] ${who} --> ${formatAddress(dest)}: ${errorMessage(err)}`);
      conn.destroy();
      return;
    }
    if (conn.destroyed) {
      remote.destroy();
      return;
    }
    log.debug(`[Shadowsocks] ${who} --> ${formatAddress(dest)}`);
    relay(conn, remote);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error(`[Shadowsocks] server: ${errorMessage(err)}`));
  const bound = server.address() as net.AddressInfo;
  let udp: UdpRelay | undefined;
  let closing: Promise<void> | undefined;
  if (opts.udp !== false) {
    try {
      udp = await startUdpRelay(keys, bound.address, bound.port, opts.dialer, log, opts.udpIdleMs ?? 60_000);
    } catch (err) {
      server.close();
      throw err;
    }
  }
  return {
    address: () => ({ host: bound.address, port: bound.port }),
    connections: () => clients.size,
    close() {
      closing ??= (async () => {
        udp?.close();
        const done = once(server, 'close');
        server.close();
        for (const s of clients) s.destroy();
        await done;
      })();
      return closing;
    },
  };
}

/**
 * Relays both ways with backpressure and half-close (each side's end ends the other's
 * writing); an error or reset on either side destroys both.
 */
export function relay(a: Duplex, b: Duplex): void {
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  const closed = (x: Duplex, y: Duplex) => (): void => {
    // a clean close (both directions finished) leaves the other to finish its own writes
    if (!(x.readableEnded && x.writableFinished)) y.destroy();
  };
  a.on('close', closed(a, b));
  b.on('close', closed(b, a));
  a.pipe(b);
  b.pipe(a);
  a.resume();
}
