import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { unmapIPv4, type Address } from '../core/address.js';
import type { UdpWriteBack } from '../core/inbound.js';
import type { InboundContext } from './context.js';
import { decodeUdpHeader, encodeUdpHeader } from './socks-codec.js';

/** A bound SOCKS5 UDP relay socket. */
export interface SocksUdpRelay {
  /** the bound UDP port */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Binds the SOCKS5 UDP relay on `host:port` (the TCP listener's host and port number) and
 * feeds every well-formed datagram to the tunnel. `allowed(ip)` is the inbound's source policy.
 * Fragmented datagrams (FRAG ≠ 0) are dropped, as RFC 1928 lets a server do, and as mihomo does.
 */
export function startSocksUdp(ctx: InboundContext, host: string, port: number, allowed: (ip: string) => boolean): Promise<SocksUdpRelay> {
  const v6 = isIP(host) === 6;
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address: host, port }, () => {
      socket.off('error', onError);
      resolve(new Relay(ctx, socket, v6, allowed));
    });
  });
}

/** The relay: one receive handler and one write-back object for the socket's whole life. */
class Relay implements SocksUdpRelay, UdpWriteBack {
  readonly port: number;
  readonly #ctx: InboundContext;
  readonly #socket: UdpSocket;
  /** a dual-stack (udp6) socket can only send to IPv4 peers as IPv4-mapped IPv6 */
  readonly #v6: boolean;
  readonly #allowed: (ip: string) => boolean;
  #closed = false;

  constructor(ctx: InboundContext, socket: UdpSocket, v6: boolean, allowed: (ip: string) => boolean) {
    this.#ctx = ctx;
    this.#socket = socket;
    this.#v6 = v6;
    this.#allowed = allowed;
    this.port = socket.address().port;
    socket.on('message', this.#onMessage);
    socket.on('error', this.#onError);
  }

  #onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const sourceIp = unmapIPv4(rinfo.address);
    if (!this.#allowed(sourceIp)) return;
    const h = decodeUdpHeader(msg);
    if (h === undefined || h.frag !== 0) return;
    const meta = this.#ctx.meta('udp', 'SOCKS5', { host: sourceIp, port: rinfo.port }, h.address);
    this.#ctx.handler.handleUdp(msg.subarray(h.payloadOffset), meta, this);
  };

  /** Socket errors (e.g. ICMP unreachable surfacing on send) must not kill the relay. */
  #onError = (err: Error): void => {
    this.#ctx.log.debug(`[${this.#ctx.name}] SOCKS5 UDP relay: ${err.message}`);
  };

  /** Wraps `data` from remote `from` in a SOCKS5 UDP header and sends it to the client `to`. */
  send(data: Buffer, from: Address, to: Address): void {
    if (this.#closed) return;
    let header: Buffer;
    try {
      header = encodeUdpHeader(from);
    } catch {
      return; // a domain too long to encode: nothing sensible to send
    }
    const host = this.#v6 && isIP(to.host) === 4 ? `::ffff:${to.host}` : to.host;
    this.#socket.send([header, data], to.port, host, this.#onSent);
  }

  /** Datagrams are lossy by contract: a failed send is only worth a debug line. */
  #onSent = (err: Error | null): void => {
    if (err) this.#ctx.log.debug(`[${this.#ctx.name}] SOCKS5 UDP send: ${err.message}`);
  };

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
