import type { StreamLayer } from '../../core/stream-layer.js';
import { FramedDuplex } from '../framed-duplex.js';
import { httpUpgradeLayer } from '../httpupgrade.js';
import { tlsLayer, type TlsOptions } from '../tls.js';
import { wsLayer } from '../ws.js';
import { MuxCoolClientCodec } from './mux-cool.js';

/** v2ray-plugin's client options, resolved (mihomo's plugin-opts keys). */
export interface V2rayPluginOptions {
  readonly host: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly tls: boolean;
  readonly skipCertVerify: boolean;
  readonly fingerprint?: string;
  readonly mux: boolean;
  readonly httpUpgrade: boolean;
  readonly httpUpgradeFastOpen: boolean;
  /** extra trust anchors (tests) */
  readonly ca?: TlsOptions['ca'];
}

/**
 * v2ray-plugin's websocket mode as layers: TLS (optional; SNI = the Host header or `host`,
 * ALPN http/1.1), WebSocket (or httpupgrade) with Host `host` and `path`, and Mux.Cool with one
 * sub-connection when `mux` (v2ray-plugin's own client default, and mihomo's).
 */
export function v2rayPluginLayers(o: V2rayPluginOptions): StreamLayer[] {
  const hostHeader = o.headers.find(([k]) => k.toLowerCase() === 'host')?.[1];
  const layers: StreamLayer[] = [];
  if (o.tls) {
    layers.push(
      tlsLayer({ serverName: hostHeader || o.host, alpn: ['http/1.1'], skipCertVerify: o.skipCertVerify, fingerprint: o.fingerprint, ca: o.ca }),
    );
  }
  const ws = {
    host: hostHeader || o.host,
    path: o.path,
    headers: o.headers.filter(([k]) => k.toLowerCase() !== 'host'),
    maxEarlyData: 0,
    earlyDataHeaderName: '',
  };
  layers.push(o.httpUpgrade ? httpUpgradeLayer({ ...ws, fastOpen: o.httpUpgradeFastOpen }) : wsLayer(ws));
  if (o.mux) layers.push({ wrap: async (inner) => new FramedDuplex(inner, new MuxCoolClientCodec()) });
  return layers;
}
