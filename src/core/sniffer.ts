import type { Duplex } from 'node:stream';
import type { TcpReply } from './inbound.js';
import type { Metadata } from './metadata.js';

/** What sniffing a TCP connection leaves the tunnel to route and answer with. */
export interface TcpSniffed {
  /** the metadata to route and dial by: `sniffHost` set, and the destination replaced when overriding */
  readonly meta: Metadata;
  /**
   * the reply still to send: undefined once the sniffer has answered the client itself (it must,
   * before reading: the client sends its first bytes only after the proxy protocol's success reply)
   */
  readonly reply: TcpReply | undefined;
}

/** The sniff of one UDP session: fed its datagrams until it settles on the metadata to route by. */
export interface UdpSniff {
  /** a later datagram of the session, while it is not yet routed */
  push(data: Buffer): void;
  /** settles (never rejects) within a short, bounded time */
  readonly done: Promise<Metadata>;
}

/**
 * A generation's sniffer (mihomo's sniffer dispatcher, `sniffer:`): reads the domain a client
 * asks for from its first bytes (TLS SNI, HTTP Host, QUIC Initial SNI) before the rules run.
 */
export interface Sniffer {
  /**
   * undefined (at once, nothing read) when this connection is not to be sniffed; else peeks the
   * first bytes, which stay in `conn` for the relay, untouched. Never rejects.
   */
  sniffTcp(conn: Duplex, meta: Metadata, reply: TcpReply | undefined): Promise<TcpSniffed> | undefined;
  /** undefined when the session is not to be sniffed; else its sniff, started with the first datagram */
  sniffUdp(meta: Metadata, first: Buffer): UdpSniff | undefined;
}
