import type { Duplex } from 'node:stream';
import type { Logger } from '../common/log.js';
import { ProxyError } from '../core/errors.js';
import type { Dialer } from '../core/outbound.js';
import type { StreamLayer } from '../core/stream-layer.js';
import { GrpcPool, grpcLayer, type GrpcLayerOptions } from './grpc.js';
import { h2Layer } from './h2.js';
import { httpObfsLayer } from './http-obfs.js';
import { httpUpgradeLayer } from './httpupgrade.js';
import type { TransportConfig } from './options.js';
import { tlsLayer, type TlsOptions } from './tls.js';
import { missHandshake, warmOverride, warmPoolLookup } from './warm-connect.js';
import type { WarmPoolSource } from './warm-pool-registry.js';
import { wsLayer } from './ws.js';

export { transportShape, type TransportConfig } from './options.js';

/** What buildTransport knows of the proxy besides its transport keys. */
export interface TransportContext {
  readonly server: string;
  readonly port: number;
  readonly proxyName: string;
  readonly log: Logger;
  /** protocol default: trojan always uses TLS (a `tls: false` is then ignored with a warning) */
  readonly tlsDefault?: boolean;
  /** ALPN when the config gives none, on the plain TLS path (trojan: h2, http/1.1) */
  readonly alpnDefault?: readonly string[];
  /** extra trust anchors (tests with a private CA) */
  readonly ca?: TlsOptions['ca'];
  /** how long a pooled grpc session without streams stays open (default 60 s) */
  readonly grpcIdleMs?: number;
  /** the core's warm TLS pools (absent: every connect dials and handshakes, as before) */
  readonly warmPool?: WarmPoolSource;
}

/** The network names we build; mihomo's other values are refused by name. */
export type NetworkName = 'tcp' | 'ws' | 'http' | 'h2' | 'grpc';

/** A proxy's transport stack, chosen once from its config. */
export interface Transport {
  readonly network: NetworkName;
  /** the layers in order (tls first, then ws|h2|grpc|http|httpupgrade); empty for plain tcp */
  readonly layers: readonly StreamLayer[];
  /** Applies the layers, in order, over an already dialed stream to the proxy server. */
  open(inner: Duplex, signal: AbortSignal): Promise<Duplex>;
  /**
   * Dials the proxy server through `dialer` and opens the layers. For grpc it reuses a live
   * HTTP/2 session to the server (one per dialer), as mihomo does, so prefer this to `open`.
   */
  connect(dialer: Dialer, signal: AbortSignal): Promise<Duplex>;
  /** Closes pooled sessions (the outbound's close). */
  close(): Promise<void>;
}

const NETWORKS: readonly string[] = ['tcp', 'ws', 'http', 'h2', 'grpc'];

/**
 * Validates the transport keys of one proxy and builds its stack. Keys we cannot honour are
 * never silently dropped: `client-fingerprint` warns (Node's TLS hello is sent instead),
 * `reality-opts` with a public key and `ech-opts.enable` are errors ("not supported yet").
 * `flow` is the protocols' business. Throws ProxyError('CONFIG') naming the proxy.
 */
export function buildTransport(cfg: TransportConfig, ctx: TransportContext): Transport {
  const who = `proxy "${ctx.proxyName}"`;
  const refuse = (msg: string): never => {
    throw new ProxyError('CONFIG', `${who}: ${msg}`);
  };
  const network = (cfg.network ?? '').trim().toLowerCase() || 'tcp';
  if (!NETWORKS.includes(network)) refuse(`network ${JSON.stringify(cfg.network)} not supported (use tcp, ws, http, h2 or grpc)`);
  if (cfg['reality-opts']?.['public-key']) refuse('reality-opts not supported yet');
  if (cfg['ech-opts']?.enable) refuse('ech-opts not supported yet');
  if (cfg['client-fingerprint'] && cfg['client-fingerprint'] !== 'none') {
    ctx.log.warn(`${who}: client-fingerprint ${cfg['client-fingerprint']} not supported, using Node's own TLS ClientHello`);
  }
  if (ctx.tlsDefault && cfg.tls === false) ctx.log.warn(`${who}: tls: false ignored, this protocol always uses TLS`);
  const net = network as NetworkName;
  // mihomo always runs h2 over TLS (v2ray's "http" transport requires it)
  const useTls = net === 'h2' || cfg.tls === true || ctx.tlsDefault === true;
  const ws = cfg['ws-opts'] ?? {};
  const wsHeaders = Object.entries(ws.headers ?? {});
  const hostHeader = wsHeaders.find(([k]) => k.toLowerCase() === 'host')?.[1];
  const serverName = cfg.servername || cfg.sni || (net === 'ws' ? hostHeader : undefined) || ctx.server;
  const alpn =
    net === 'ws' ? ['http/1.1'] : net === 'h2' || net === 'grpc' ? ['h2'] : cfg.alpn?.length ? cfg.alpn : ctx.alpnDefault;
  const tlsOpts: TlsOptions = {
    serverName,
    alpn,
    skipCertVerify: cfg['skip-cert-verify'] === true,
    fingerprint: cfg.fingerprint || undefined,
    ca: ctx.ca,
  };
  const tls = useTls ? [tlsLayer(tlsOpts)] : [];
  let top: StreamLayer | undefined;
  let grpc: GrpcLayerOptions | undefined;
  switch (net) {
    case 'ws': {
      const common = {
        host: hostHeader || cfg.sni || ctx.server,
        path: ws.path ?? '/',
        headers: wsHeaders.filter(([k]) => k.toLowerCase() !== 'host'),
        maxEarlyData: ws['max-early-data'] ?? 0,
        earlyDataHeaderName: ws['early-data-header-name'] ?? '',
      };
      top = ws['v2ray-http-upgrade']
        ? httpUpgradeLayer({ ...common, fastOpen: ws['v2ray-http-upgrade-fast-open'] === true })
        : wsLayer(common);
      break;
    }
    case 'h2': {
      const h2 = cfg['h2-opts'] ?? {};
      // mihomo's default host list when none is given
      top = h2Layer({ hosts: h2.host?.length ? h2.host : ['www.example.com'], path: h2.path || '/' });
      break;
    }
    case 'grpc': {
      const g = cfg['grpc-opts'] ?? {};
      grpc = {
        serviceName: g['grpc-service-name'] ?? '',
        authority: cfg.servername || cfg.sni || hostPort(ctx.server, ctx.port),
        userAgent: g['grpc-user-agent'],
        scheme: useTls ? 'https' : 'http',
      };
      top = grpcLayer(grpc);
      break;
    }
    case 'http': {
      const h = cfg['http-opts'] ?? {};
      top = httpObfsLayer({ method: h.method || 'GET', paths: h.path?.length ? h.path : ['/'], headers: h.headers ?? {}, host: ctx.server });
      break;
    }
    case 'tcp':
      break;
  }
  const layers: readonly StreamLayer[] = top ? [...tls, top] : tls;
  const open = async (inner: Duplex, signal: AbortSignal): Promise<Duplex> => {
    let s = inner;
    for (const layer of layers) s = await layer.wrap(s, signal);
    return s;
  };
  const pool = grpc ? new GrpcPool(grpc, tls, ctx) : undefined;
  // grpc multiplexes over its own long-lived session: a warm pool would add nothing there. An h2
  // server speaks first (its SETTINGS frame right after TLS), which a parked connection must take
  // for the server giving up on it: every one would be dropped, a handshake wasted per connect
  const warm = useTls && !grpc && net !== 'h2' ? warmPoolLookup(ctx.warmPool, { server: ctx.server, port: ctx.port, tls: tlsOpts }, warmOverride(cfg['warm-pool'])) : undefined;
  const afterTls = layers.slice(1);
  return {
    network: net,
    layers,
    open,
    async connect(dialer, signal) {
      if (pool) return pool.open(dialer, signal);
      const wp = warm?.(dialer);
      if (!wp || signal.aborted) return open(await dialer.dialTcp({ host: ctx.server, port: ctx.port }, signal), signal);
      let s: Duplex | undefined = wp.take();
      if (!s) {
        // a miss: dial as without the pool, and let the pool learn the handshake time
        const t0 = Date.now();
        s = await missHandshake(wp, await dialer.dialTcp({ host: ctx.server, port: ctx.port }, signal), tlsOpts, signal, t0);
      }
      for (const layer of afterTls) s = await layer.wrap(s, signal);
      return s;
    },
    async close() {
      pool?.close();
    },
  };
}

/** `host:port`, with brackets around IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
