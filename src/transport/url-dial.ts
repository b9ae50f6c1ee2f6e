import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { innerMetadata } from '../core/metadata.js';
import type { Outbound } from '../core/outbound.js';
import { connectTls, type TlsOptions } from './tls.js';

/** Where an http(s) URL points. */
export interface UrlTarget {
  /** IPv6 without brackets */
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/** The target of an http or https URL; undefined for any other scheme or a URL without a host. */
export function urlTarget(url: URL): UrlTarget | undefined {
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') return undefined;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return undefined;
  return { host, port: url.port === '' ? (tls ? 443 : 80) : Number(url.port), tls };
}

/**
 * Dials a URL's host through `outbound` (a connection the core opens itself: a URL test, a
 * provider fetch) and runs TLS over it for https (SNI unless the host is an IP literal).
 */
export async function dialUrl(outbound: Outbound, t: UrlTarget, signal: AbortSignal, ca?: TlsOptions['ca']): Promise<Duplex> {
  const stream = await outbound.dialTcp(innerMetadata(t), { signal });
  if (!t.tls) return stream;
  return connectTls(stream, { serverName: isIP(t.host) === 0 ? t.host : undefined, alpn: ['http/1.1'], ca }, signal);
}
