import { createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAddress, type Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn } from '../../core/outbound.js';
import { buildTransport, hostPort, type Transport } from '../../transport/build.js';
import { proxyDialer } from '../common/dial-options.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { encodeVlessRequest, parseVlessResponse, VLESS_CMD, type VlessCommand } from './codec/header.js';
import { encodeLengthFrames, LengthFrameDecoder } from './codec/packet.js';
import { uuidBytes } from './codec/uuid.js';
import { HeaderStream, openHeaderStream } from '../common/header-stream.js';
import { StreamPacketConn, type DatagramSink, type PacketFraming } from '../common/stream-packet-conn.js';
import { encodeXudpFrame, XudpDecoder } from '../common/xudp.js';
import { vlessPacketEncoding, vlessSchema, type VlessOptions } from './options.js';
import { PerDestinationPacketConn } from './udp-per-destination.js';

/** Test hooks: trust anchors for a private CA. */
export interface VlessExtras {
  readonly ca?: string | Buffer;
}

/**
 * A VLESS outbound over the proxy's transport stack (tcp, tls, ws, h2, grpc, http — built by
 * transport/build.ts). TCP: the request header rides with the first client bytes; the response
 * header is stripped from the first bytes back. UDP: XUDP (mihomo's default: Mux.Cool session 0
 * on one stream, each datagram with its address) or, with `packet-encoding: none`, plain
 * length-prefixed datagrams on one stream per destination. Destinations of UDP sessions are
 * resolved to an IP first, as mihomo does.
 */
export function createVless(o: VlessOptions, deps: OutboundDeps, extras: VlessExtras = {}): Outbound {
  const name = o.name;
  const uuid = uuidBytes(o.uuid);
  const encoding = vlessPacketEncoding(o);
  const server = hostPort(o.server, o.port);
  if ((o.flow?.trim() ?? '') !== '') deps.log.warn(`proxy "${name}": flow ${o.flow} ignored over ws, as mihomo does`);
  const transport: Transport = buildTransport(o, { server: o.server, port: o.port, proxyName: name, log: deps.log, ca: extras.ca, warmPool: deps.warmPool });
  const dialer = proxyDialer(o, deps);
  // XUDP's GlobalID: a stable per-client tag (keyed, so it does not leak the address)
  const gidKey = randomBytes(32);

  const open = (cmd: VlessCommand, dest: Address | undefined, opts: DialOptions): Promise<HeaderStream> =>
    openHeaderStream(transport, dialer, opts, server, () => encodeVlessRequest(uuid, cmd, dest), {
      response: parseVlessResponse,
      label: 'VLESS',
    });

  async function resolved(to: Address, signal: AbortSignal): Promise<Address> {
    if (isIP(to.host) !== 0) return to;
    const ip = await deps.resolver.resolveIp(to.host, signal).catch(() => undefined);
    if (ip === undefined) throw new ProxyError('RESOLVE_FAILED', `can't resolve ip of ${to.host}`);
    return { host: ip, port: to.port };
  }

  async function plainLeg(to: Address, opts: DialOptions): Promise<PacketConn> {
    const s = await open(VLESS_CMD.UDP, to, opts);
    return new StreamPacketConn(s, new LengthFraming(), to);
  }

  return {
    name,
    type: 'Vless',
    udp: o.udp === true,
    async dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex> {
      return open(VLESS_CMD.TCP, meta.destination, opts);
    },
    async dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
      const dest = await resolved(meta.destination, opts.signal);
      if (encoding === 'none') {
        const first = await plainLeg(dest, opts);
        // later legs outlive the dial's signal: they belong to the session
        return new PerDestinationPacketConn(first, dest, async (to) =>
          plainLeg(await resolved(to, AbortSignal.timeout(10_000)), { dialer: opts.dialer, signal: AbortSignal.timeout(10_000) }),
        );
      }
      const s = await open(VLESS_CMD.MUX, undefined, opts);
      const gid = createHmac('sha256', gidKey).update(formatAddress(meta.source)).digest().subarray(0, 8);
      return new StreamPacketConn(s, new XudpFraming(gid), dest);
    },
    close: () => transport.close(),
  };
}

/** VLESS UDP (command 2): length-prefixed datagrams, all to the request's destination. */
class LengthFraming implements PacketFraming {
  readonly #decoder = new LengthFrameDecoder();

  encode(data: Buffer): Buffer | undefined {
    const frames = encodeLengthFrames(data);
    return frames.length === 0 ? undefined : frames.length === 1 ? frames[0] : Buffer.concat(frames);
  }

  decode(chunk: Buffer, sink: DatagramSink): boolean {
    for (const data of this.#decoder.push(chunk)) sink.datagram(data, undefined);
    return false;
  }
}

/** XUDP (command Mux): each datagram a Mux.Cool frame naming its address; the first one New, with the GlobalID. */
class XudpFraming implements PacketFraming {
  readonly #decoder = new XudpDecoder();
  readonly #globalId: Buffer;
  #first = true;

  constructor(globalId: Buffer) {
    this.#globalId = globalId;
  }

  encode(data: Buffer, to: Address): Buffer {
    const frame = encodeXudpFrame(this.#first, to, data, this.#globalId);
    this.#first = false;
    return frame;
  }

  decode(chunk: Buffer, sink: DatagramSink): boolean {
    return this.#decoder.push(chunk, sink);
  }
}

/** `type: vless` proxies. */
export const vlessDefinition: ProxyDefinition<VlessOptions> = {
  type: 'vless',
  schema: vlessSchema,
  create: (o, deps) => createVless(o, deps),
};
