import type { Duplex } from 'node:stream';
import type { Address } from './address.js';
import type { Metadata } from './metadata.js';

/**
 * A datagram socket to many peers. Outbounds return one from `dialUdp`; the tunnel's NAT table
 * owns it and closes it when the session idles out.
 */
export interface PacketConn {
  /** Sends one datagram. Never throws for network errors: datagrams are lossy by contract. */
  send(data: Buffer, to: Address): void;
  /** Sets the one receiver of datagrams coming back; `from` is the remote peer. */
  onMessage(handler: (data: Buffer, from: Address) => void): void;
  /** Sets the one listener told when the conn closes (after `close()` or a fatal error). */
  onClose(handler: (err?: Error) => void): void;
  close(): void;
}

/** How an outbound reaches its own server: the system's sockets, or a previous proxy hop. */
export interface Dialer {
  dialTcp(to: Address, signal: AbortSignal): Promise<Duplex>;
  dialUdp(signal: AbortSignal): Promise<PacketConn>;
}

/** Options every dial takes. */
export interface DialOptions {
  /** aborted when the client goes away or the dial times out */
  readonly signal: AbortSignal;
  /** the hop to dial through (proxy chains); the system dialer when absent */
  readonly dialer?: Dialer;
}

/**
 * Anything a rule can name: DIRECT, REJECT, a proxy, a group.
 * `dialTcp` resolves once the stream accepts writes (for a proxy, possibly before the server
 * answered, so the first client bytes ride with the protocol header).
 */
export interface Outbound {
  readonly name: string;
  /** mihomo's adapter type name as the API shows it: Direct, Reject, Shadowsocks, Selector… */
  readonly type: string;
  /** whether UDP can be relayed through it */
  readonly udp: boolean;
  dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex>;
  dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn>;
  close(): Promise<void>;
}

/** A group is an Outbound that delegates to one of its members per connection. */
export interface ProxyGroup extends Outbound {
  /** member names, in config order */
  readonly members: readonly string[];
  /** the member currently chosen (what the API shows as `now`) */
  now(): string;
  /** the member to use for this connection (the group counts as used: lazy health checks start) */
  pick(meta: Metadata): Outbound;
  /** told how the dial through `member` (picked for a connection) ended; `err` when it failed */
  dialed?(member: Outbound, err?: unknown): void;
}

/** Narrows an Outbound to a ProxyGroup. */
export function isGroup(o: Outbound): o is ProxyGroup {
  return typeof (o as Partial<ProxyGroup>).pick === 'function';
}

/** mihomo's PASS target: the tunnel skips the rule and keeps matching. */
export const PASS_TYPE = 'Pass';
