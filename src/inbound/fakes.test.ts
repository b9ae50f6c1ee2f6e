// Test doubles and loopback servers shared by the inbound tests (no tests of its own).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { CidrList } from '../common/cidr.js';
import { createLogger } from '../common/log.js';
import type { Address } from '../core/address.js';
import type { ConnectionHandler, Inbound, TcpReply, UdpWriteBack } from '../core/inbound.js';
import type { Metadata } from '../core/metadata.js';
import { startInbound, type InboundOptions } from './listener.js';

function noop(): void {}

/**
 * A ConnectionHandler that dials the destination itself (after mapping names through `hosts`)
 * and relays with `pipeline`; or fails every connection with `fail`.
 */
export class FakeHandler implements ConnectionHandler {
  readonly tcp: Metadata[] = [];
  readonly udp: Metadata[] = [];
  readonly hosts = new Map<string, string>();
  fail: Error | undefined;
  #udpSocket: UdpSocket | undefined;

  handleTcp(conn: Duplex, meta: Metadata, reply?: TcpReply): void {
    conn.on('error', noop);
    this.tcp.push(meta);
    if (this.fail) {
      reply?.failed(this.fail);
      conn.destroy();
      return;
    }
    const host = this.hosts.get(meta.destination.host) ?? meta.destination.host;
    const remote = connect({ host, port: meta.destination.port, allowHalfOpen: true });
    let up = false;
    remote.on('error', (err) => {
      if (!up) reply?.failed(err);
      conn.destroy();
    });
    remote.once('connect', () => {
      up = true;
      reply?.connected();
      pipeline(conn, remote, noop);
      pipeline(remote, conn, noop);
    });
  }

  handleUdp(data: Buffer, meta: Metadata, writeBack: UdpWriteBack): void {
    this.udp.push(meta);
    if (this.#udpSocket === undefined) {
      const s = createSocket('udp4');
      s.on('error', noop);
      this.#udpSocket = s;
    }
    const s = this.#udpSocket;
    s.removeAllListeners('message');
    s.on('message', (msg, rinfo) => writeBack.send(msg, { host: rinfo.address, port: rinfo.port }, meta.source));
    const host = this.hosts.get(meta.destination.host) ?? meta.destination.host;
    s.send(data, meta.destination.port, host);
  }

  close(): void {
    this.#udpSocket?.close();
  }
}

/** A silent logger. */
export const quietLog = createLogger('silent');

/** Starts an inbound on 127.0.0.1:0 with test defaults. */
export function startTestInbound(handler: ConnectionHandler, over: Partial<InboundOptions> = {}): Promise<Inbound> {
  return startInbound({
    name: 'TEST-MIXED',
    type: 'mixed',
    listen: '127.0.0.1',
    port: 0,
    udp: false,
    users: [],
    skipAuthPrefixes: CidrList.parse([]),
    handler,
    log: quietLog,
    ...over,
  });
}

/** A TCP server on loopback; resolves with its address. */
export function listenTcp(onConn: (s: Socket) => void, host = '127.0.0.1'): Promise<{ server: Server; address: Address }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', noop);
    onConn(s);
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, address: { host, port: (server.address() as { port: number }).port } })));
}

/** Echoes every byte; ends when the client ends. */
export function startEchoServer(host = '127.0.0.1'): Promise<{ server: Server; address: Address }> {
  return listenTcp((s) => s.pipe(s), host);
}

/** Reads exact byte counts from a socket, with a deadline. */
export class Reader {
  #buf = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake?.();
    });
    socket.on('error', noop);
  }

  /** Resolves with exactly n bytes; rejects on EOF or after `ms`. */
  async read(n: number, ms = 3000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.#buf.length < n) {
      if (this.#ended) throw new Error(`EOF after ${this.#buf.length} of ${n} bytes`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout with ${this.#buf.length} of ${n} bytes`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Reads until `marker` (inclusive), e.g. the end of an HTTP head. */
  async readUntil(marker: string, ms = 3000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.#buf.indexOf(marker);
      if (i >= 0) return (await this.read(i + marker.length)).toString('latin1');
      if (this.#ended) throw new Error(`EOF before ${JSON.stringify(marker)}: ${this.#buf.toString('latin1')}`);
      if (Date.now() > deadline) throw new Error(`timeout before ${JSON.stringify(marker)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Resolves once the peer has closed (EOF or close), rejecting after `ms`; then closes our side. */
  async closed(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.#ended) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.socket.destroy();
  }

  /** Bytes received but not read yet. */
  get pending(): Buffer {
    return this.#buf;
  }
}

/** Connects to an address and waits for the connection. */
export function dial(a: Address): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: a.host, port: a.port, allowHalfOpen: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Waits until `cond()` holds, polling; throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
