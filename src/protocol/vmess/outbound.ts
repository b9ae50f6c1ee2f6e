import type { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import type { DialOptions, Outbound, PacketConn } from '../../core/outbound.js';
import { buildTransport, type Transport } from '../../transport/build.js';
import type { TlsOptions } from '../../transport/tls.js';
import { proxyDialer } from '../common/dial-options.js';
import type { OutboundDeps, ProxyDefinition } from '../registry.js';
import { VmessClientStream } from './client-stream.js';
import { sealAeadHeader } from './codec/header.js';
import { encodeRequest, COMMAND } from './codec/request.js';
import { newSession, type SecurityName } from './codec/session.js';
import { isUuidText, userIdBytes, userKeys } from './codec/user.js';
import { packetEncoding, vmessSchema, type VmessOptions } from './options.js';
import { vmessPacketConn } from './packet-conn.js';

/** Extra construction knobs (tests): trust anchors for a private CA. */
export interface VmessExtras {
  readonly ca?: TlsOptions['ca'];
}

/**
 * Builds a VMess outbound (AEAD header, alterId 0) over the transport its options choose.
 * Config problems that only show here (transport combinations) throw ProxyError('CONFIG').
 */
export function createVmess(o: VmessOptions, deps: OutboundDeps, extras: VmessExtras = {}): Outbound {
  const who = `proxy "${o.name}"`;
  const transport: Transport = buildTransport(o, { server: o.server, port: o.port, proxyName: o.name, log: deps.log, ca: extras.ca, warmPool: deps.warmPool });
  if (!isUuidText(o.uuid)) deps.log.warn(`${who}: uuid is not a UUID; using its name-based UUID v5, as mihomo does`);
  const dialer = proxyDialer(o, deps);
  let encoding = packetEncoding(o);
  if (encoding === 'packetaddr') {
    deps.log.warn(`${who}: packet-encoding packetaddr not supported yet, UDP uses none (one destination per stream)`);
    encoding = 'none';
  }
  const user = userKeys(userIdBytes(o.uuid));
  const security = o.cipher as SecurityName;
  const params = { security, globalPadding: o['global-padding'], authenticatedLength: o['authenticated-length'] };

  const connect = async (opts: DialOptions): Promise<Duplex> => {
    try {
      return opts.dialer ? await transport.open(await opts.dialer.dialTcp({ host: o.server, port: o.port }, opts.signal), opts.signal) : await transport.connect(dialer, opts.signal);
    } catch (err) {
      if (err instanceof ProxyError && err.code === 'ABORTED') throw err;
      throw new ProxyError(err instanceof ProxyError ? err.code : 'DIAL_FAILED', `${who}: ${(err as Error).message}`, { cause: err });
    }
  };
  const seal = (header: Buffer): Buffer => sealAeadHeader(user, header, Date.now() / 1000);

  return {
    name: o.name,
    type: 'Vmess',
    udp: o.udp,
    async dialTcp(meta: Metadata, opts: DialOptions): Promise<Duplex> {
      const session = newSession({ ...params, command: COMMAND.TCP, destination: meta.destination });
      const head = seal(encodeRequest(session.request));
      const inner = await connect(opts);
      return new VmessClientStream(inner, session, head, o.name);
    },
    async dialUdp(meta: Metadata, opts: DialOptions): Promise<PacketConn> {
      if (!o.udp) throw new ProxyError('UNSUPPORTED', `${who}: udp is not enabled for this proxy`);
      const xudp = encoding === 'xudp';
      const session = newSession({ ...params, command: xudp ? COMMAND.MUX : COMMAND.UDP, destination: meta.destination });
      const head = seal(encodeRequest(session.request));
      const inner = await connect(opts);
      return vmessPacketConn(inner, session, head, { destination: meta.destination, xudp, proxyName: o.name });
    },
    close: () => transport.close(),
  };
}

/** `type: vmess` proxies. */
export const vmessDefinition: ProxyDefinition<VmessOptions> = {
  type: 'vmess',
  schema: vmessSchema,
  create: (o, deps) => createVmess(o, deps),
};
