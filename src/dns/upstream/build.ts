import { isIP } from 'node:net';
import type { NameserverSpec } from '../../config/dns.js';
import type { Dialer } from '../../core/outbound.js';
import { connectTls } from '../../transport/tls.js';
import { withClientSubnet } from '../wire.js';
import { dohUpstream } from './doh.js';
import { rcodeUpstream } from './rcode.js';
import { streamUpstream } from './stream.js';
import { systemUpstream } from './system.js';
import { udpUpstream } from './udp.js';
import type { Upstream } from './upstream.js';

/** What turning a nameserver entry into an upstream needs. */
export interface UpstreamEnv {
  /** the dialer of an entry: the system's (over the bootstrap resolver), a proxy's, or the rules' */
  readonly dialerFor: (spec: NameserverSpec) => Dialer;
  /** the system's own dialer, for `system` */
  readonly systemDialer: Dialer;
  readonly log?: { debug(msg: string): void };
  /** extra trust anchors for DoT / DoH (tests run a private CA) */
  readonly ca?: string | Buffer;
  /** /etc/resolv.conf, for `system` (tests point it elsewhere) */
  readonly resolvConf?: string;
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** Builds the upstream of one parsed nameserver entry. */
export function buildUpstream(spec: NameserverSpec, env: UpstreamEnv): Upstream {
  const u = rawUpstream(spec, env);
  if (!spec.ecs) return u;
  const ecs = spec.ecs;
  return { address: u.address, exchange: (q, signal) => u.exchange(withClientSubnet(q, ecs), signal), close: () => u.close() };
}

function rawUpstream(spec: NameserverSpec, env: UpstreamEnv): Upstream {
  const server = { host: spec.host, port: spec.port };
  const tlsOpts = (alpn?: readonly string[]) => ({
    serverName: isIP(spec.host) === 0 ? spec.host : undefined,
    skipCertVerify: spec.skipCertVerify,
    ca: env.ca,
    alpn,
  });
  switch (spec.net) {
    case 'rcode':
      return rcodeUpstream(spec.url ?? '');
    case 'system':
      return systemUpstream((ip) => udpUpstream({ server: { host: ip, port: 53 }, dialer: env.systemDialer, log: env.log, direct: true }), env.resolvConf);
    case 'udp': {
      const dialer = env.dialerFor(spec);
      const tcp = streamUpstream({ address: `tcp://${hostPort(spec.host, spec.port)}`, connect: (s) => dialer.dialTcp(server, s) });
      return udpUpstream({ server, dialer, tcp, log: env.log, direct: spec.proxy === undefined || spec.proxy === 'DIRECT' });
    }
    case 'tcp': {
      const dialer = env.dialerFor(spec);
      return streamUpstream({ address: `tcp://${hostPort(spec.host, spec.port)}`, connect: (s) => dialer.dialTcp(server, s) });
    }
    case 'tls': {
      const dialer = env.dialerFor(spec);
      return streamUpstream({
        address: `tls://${hostPort(spec.host, spec.port)}`,
        connect: async (s) => connectTls(await dialer.dialTcp(server, s), tlsOpts(), s),
      });
    }
    case 'https': {
      const dialer = env.dialerFor(spec);
      const url = new URL(spec.url ?? `https://${hostPort(spec.host, spec.port)}/dns-query`);
      const tls = url.protocol === 'https:';
      return dohUpstream({
        url,
        connect: async (alpn, s) => {
          const sock = await dialer.dialTcp(server, s);
          return tls ? connectTls(sock, tlsOpts(alpn), s) : sock;
        },
      });
    }
  }
}
