import type { Duplex } from 'node:stream';
import type { Address } from './address.js';
import type { Metadata } from './metadata.js';

/**
 * How the tunnel tells an inbound the fate of a TCP connection, so it can answer in its own
 * protocol (SOCKS reply codes, `200 Connection established`, `502 Bad Gateway`).
 * Exactly one of the two is called, at most once.
 */
export interface TcpReply {
  /** The outbound accepts writes: send the success reply now; relaying starts right after. */
  connected(): void;
  /** Routing or dialing failed (a REJECT has code REJECTED): send the protocol's error; the
   * tunnel destroys the connection afterwards. */
  failed(err: Error): void;
}

/** Where a UDP inbound sends replies; one object per inbound socket, not per packet. */
export interface UdpWriteBack {
  /** Sends `data`, which came from remote `from`, back to the client at `to`. */
  send(data: Buffer, from: Address, to: Address): void;
}

/** All an inbound knows of the tunnel. */
export interface ConnectionHandler {
  /** Takes ownership of `conn`: routes it, dials, relays, and destroys it in the end. */
  handleTcp(conn: Duplex, meta: Metadata, reply?: TcpReply): void;
  /** Routes one datagram from `meta.source` to `meta.destination`; replies go through `writeBack`. */
  handleUdp(data: Buffer, meta: Metadata, writeBack: UdpWriteBack): void;
}

/** A started listener. */
export interface Inbound {
  /** the inbound name (DEFAULT-MIXED…) */
  readonly name: string;
  /** the bound TCP address (the real port when 0 was asked for) */
  address(): Address;
  /** stops accepting; live connections are the tunnel's to close */
  close(): Promise<void>;
}
