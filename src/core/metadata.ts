import { randomUUID } from 'node:crypto';
import type { Address } from './address.js';

/** Transport of a connection as rules (NETWORK) and the API see it. */
export type Network = 'tcp' | 'udp';

/**
 * mihomo's connection types (its `constant.Type`), shown in the API's `metadata.type`
 * and matched by IN-TYPE. HTTP is a plain forwarded request, HTTPS a CONNECT tunnel.
 */
export type InboundType =
  | 'HTTP'
  | 'HTTPS'
  | 'SOCKS4'
  | 'SOCKS5'
  | 'SHADOWSOCKS'
  | 'VMESS'
  | 'VLESS'
  | 'TROJAN'
  | 'INNER';

/** Which listener accepted the connection, and who authenticated on it. */
export interface InboundInfo {
  readonly type: InboundType;
  /** listener name: DEFAULT-MIXED, DEFAULT-HTTP, DEFAULT-SOCKS or a `listeners[].name` */
  readonly name: string;
  /** the port the listener is bound to */
  readonly port: number;
  /** authenticated user name, if the inbound required one */
  readonly user?: string;
}

/** Everything known about one connection before it is routed. Immutable once built. */
export interface Metadata {
  /** unique per connection (a UUID, as mihomo's connection ids) */
  readonly id: string;
  readonly network: Network;
  readonly inbound: InboundInfo;
  /** the client: always an IP literal (IPv4-mapped IPv6 unmapped) */
  readonly source: Address;
  /** where the client wants to go: a domain or an IP literal */
  readonly destination: Address;
  /** the host the sniffer read from the first bytes (TLS SNI, HTTP Host, QUIC SNI): domain rules match it */
  readonly sniffHost?: string;
  /**
   * the destination IP when `destination` is a domain put in place of the IP literal the client
   * asked for (the sniffer's override-destination): IP rules use it instead of resolving
   */
  readonly destinationIp?: string;
}

/**
 * The metadata of a connection the core opens itself (a URL test, a provider fetch, a chain
 * hop's own dial): inbound INNER, from this host, to `destination`.
 */
export function innerMetadata(destination: Address, network: Network = 'tcp'): Metadata {
  return {
    id: randomUUID(),
    network,
    inbound: { type: 'INNER', name: '', port: 0 },
    source: { host: '127.0.0.1', port: 0 },
    destination: { host: destination.host, port: destination.port },
  };
}
