import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { isPort, unmapIPv4, type Address } from '../core/address.js';
import type { PacketConn } from '../core/outbound.js';
import type { Resolver } from '../core/resolver.js';

/** Which family a UDP destination domain resolves to; mirrors the TCP ip-version modes. */
export type UdpFamilyPolicy = 'ipv4' | 'ipv6' | 'prefer4' | 'prefer6';

// Bounds per conn: names remembered, and datagrams waiting for one name to resolve.
const MAX_NAMES = 256;
const MAX_QUEUED = 32;

/** Datagram send errors are not reported: UDP is lossy by contract. */
function ignoreSendError(): void {}

/**
 * A PacketConn on the host's UDP sockets. A udp4 and/or udp6 socket is created only when a
 * destination of that family first needs one (the kernel binds it on first send). Domain
 * destinations are resolved once per conn; datagrams sent meanwhile wait in a short queue.
 */
export class SystemPacketConn implements PacketConn {
  readonly #resolver: Resolver;
  readonly #policy: UdpFamilyPolicy;
  readonly #ctl = new AbortController();
  /** domain → its IP, or the datagrams waiting while it resolves */
  readonly #names = new Map<string, string | { data: Buffer; port: number }[]>();
  // undefined: not needed yet; null: that family's socket failed (e.g. no IPv6 on this host)
  #v4: Socket | null | undefined;
  #v6: Socket | null | undefined;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;
  #closeError: Error | undefined;
  #notified = false;

  constructor(resolver: Resolver, policy: UdpFamilyPolicy) {
    this.#resolver = resolver;
    this.#policy = policy;
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed || !isPort(to.port)) return;
    if (isIP(to.host) !== 0) {
      this.#sendIp(data, to.host, to.port);
      return;
    }
    const known = this.#names.get(to.host);
    if (typeof known === 'string') {
      this.#sendIp(data, known, to.port);
    } else if (known) {
      if (known.length < MAX_QUEUED) known.push({ data, port: to.port });
    } else {
      if (this.#names.size >= MAX_NAMES) this.#names.clear();
      this.#names.set(to.host, [{ data, port: to.port }]);
      void this.#resolve(to.host);
    }
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) this.#notify();
  }

  close(): void {
    this.#shutdown(undefined);
  }

  async #resolve(host: string): Promise<void> {
    let ip: string | undefined;
    try {
      ip = await this.#pick(host);
    } catch {
      ip = undefined;
    }
    const queued = this.#names.get(host);
    if (this.#closed || !Array.isArray(queued)) return;
    if (ip === undefined) {
      // Forget the failure: the next datagram asks again (the resolver caches negatives).
      this.#names.delete(host);
      return;
    }
    this.#names.set(host, ip);
    for (const q of queued) this.#sendIp(q.data, ip, q.port);
  }

  async #pick(host: string): Promise<string | undefined> {
    const signal = this.#ctl.signal;
    const r = this.#resolver;
    switch (this.#policy) {
      case 'ipv4':
        return (await r.resolve4(host, signal))[0];
      case 'ipv6':
        return (await r.resolve6(host, signal))[0];
      case 'prefer6':
        return (await r.resolve6(host, signal).catch(() => []))[0] ?? (await r.resolve4(host, signal))[0];
      default:
        return (await r.resolve4(host, signal).catch(() => []))[0] ?? (await r.resolve6(host, signal))[0];
    }
  }

  #sendIp(data: Buffer, ip: string, port: number): void {
    const family = isIP(ip);
    if ((family === 6 && this.#policy === 'ipv4') || (family === 4 && this.#policy === 'ipv6')) return;
    if (family === 4 && this.#v4 === undefined) this.#v4 = this.#open('udp4');
    if (family === 6 && this.#v6 === undefined) this.#v6 = this.#open('udp6');
    const sock = family === 4 ? this.#v4 : this.#v6;
    if (!sock) return;
    try {
      sock.send(data, port, ip, ignoreSendError);
    } catch {
      // a send on a socket that is closing throws synchronously; the datagram is simply lost
    }
  }

  #open(type: 'udp4' | 'udp6'): Socket {
    const sock = createSocket({ type, ipv6Only: type === 'udp6' });
    sock.on('message', (msg, rinfo) => this.#onMessage?.(msg, { host: unmapIPv4(rinfo.address), port: rinfo.port }));
    // A socket-level error (e.g. no IPv6 on this host) retires that family only; the conn
    // ends when no family is left.
    sock.on('error', (err) => this.#retire(type, sock, err));
    return sock;
  }

  #retire(type: 'udp4' | 'udp6', sock: Socket, err: Error): void {
    try {
      sock.close();
    } catch {
      // already closed
    }
    if (type === 'udp4') this.#v4 = null;
    else this.#v6 = null;
    if (this.#v4 !== undefined && this.#v4 !== null) return;
    if (this.#v6 !== undefined && this.#v6 !== null) return;
    this.#shutdown(err);
  }

  #shutdown(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    this.#ctl.abort();
    for (const sock of [this.#v4, this.#v6]) {
      try {
        sock?.close();
      } catch {
        // already closed
      }
    }
    this.#names.clear();
    this.#notify();
  }

  #notify(): void {
    const handler = this.#onClose;
    if (!handler || this.#notified) return;
    this.#notified = true;
    handler(this.#closeError);
  }
}
