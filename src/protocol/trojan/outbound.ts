import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn } from '../../core/outbound.js';
import { buildTransport, hostPort, type Transport } from '../../transport/build.js';
import { proxyDialer } from '../common/dial-options.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { HeaderStream, openHeaderStream } from '../common/header-stream.js';
import { StreamPacketConn, type DatagramSink, type PacketFraming } from '../common/stream-packet-conn.js';
import { encodeTrojanRequest, TROJAN_CMD, trojanPasswordKey, type TrojanCommand } from './codec/header.js';
import { encodeTrojanPacket, TrojanPacketDecoder } from './codec/packet.js';
import { trojanSchema, type TrojanOptions } from './options.js';

/** Test hooks: trust anchors for a private CA. */
export interface TrojanExtras {
  readonly ca?: string | Buffer;
}

/** mihomo's ALPN for Trojan over plain TLS when none is configured. */
const TROJAN_ALPN = ['h2', 'http/1.1'];

/**
 * A Trojan outbound: TLS always (sni, alpn, skip-cert-verify, fingerprint), optionally ws or
 * grpc inside it, all built by transport/build.ts. TCP: the request (password key, CONNECT,
 * destination) rides with the first client bytes in one write; there is no response header.
 * UDP: one UDP ASSOCIATE stream per session, each datagram framed with its own address, so one
 * stream reaches any number of destinations.
 */
export function createTrojan(o: TrojanOptions, deps: OutboundDeps, extras: TrojanExtras = {}): Outbound {
  const name = o.name;
  const key = trojanPasswordKey(o.password);
  const server = hostPort(o.server, o.port);
  const transport: Transport = buildTransport(o, {
    server: o.server,
    port: o.port,
    proxyName: name,
    log: deps.log,
    tlsDefault: true,
    alpnDefault: TROJAN_ALPN,
    ca: extras.ca,
    warmPool: deps.warmPool,
  });
  const dialer = proxyDialer(o, deps);

  const open = (cmd: TrojanCommand, dest: Address, opts: DialOptions): Promise<HeaderStream> =>
    openHeaderStream(transport, dialer, opts, server, () => encodeTrojanRequest(key, cmd, dest), { label: 'Trojan' });

  return {
    name,
    type: 'Trojan',
    udp: o.udp === true,
    dialTcp: (meta: Metadata, opts: DialOptions): Promise<Duplex> => open(TROJAN_CMD.CONNECT, meta.destination, opts),
    async dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
      const s = await open(TROJAN_CMD.UDP_ASSOCIATE, meta.destination, opts);
      return new StreamPacketConn(s, new TrojanFraming(), meta.destination);
    },
    close: () => transport.close(),
  };
}

/** UDP ASSOCIATE frames: each datagram with its own address, both ways. */
class TrojanFraming implements PacketFraming {
  readonly #decoder = new TrojanPacketDecoder();

  encode(data: Buffer, to: Address): Buffer {
    return encodeTrojanPacket(to, data);
  }

  decode(chunk: Buffer, sink: DatagramSink): boolean {
    for (const p of this.#decoder.push(chunk)) sink.datagram(p.data, p.from);
    return false;
  }
}

/** `type: trojan` proxies. */
export const trojanDefinition: ProxyDefinition<TrojanOptions> = {
  type: 'trojan',
  schema: trojanSchema,
  create: (o, deps) => createTrojan(o, deps),
};
