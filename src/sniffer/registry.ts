import type { SnifferType } from '../config/sniffer.js';
import { HTTP_MAX_PEEK, sniffHttp } from './http.js';
import { QuicClientHello } from './quic.js';
import type { SniffResult } from './result.js';
import { sniffTls, TLS_MAX_PEEK } from './tls.js';

/** One sniffer type: where it applies and how to read a host. */
export interface SnifferDefinition {
  /** its name in mihomo's debug lines */
  readonly protocol: string;
  readonly network: 'tcp' | 'udp';
  /** the port it sniffs when its `ports` are not given (mihomo: 443 for TLS and QUIC, 80 for HTTP) */
  readonly defaultPort: number;
  /** TCP: the most bytes it may ask for */
  readonly maxPeek: number;
  /**
   * A judge for one connection. TCP: called with all bytes so far each time more arrive.
   * UDP: called with each datagram of the session (it keeps its own state).
   */
  open(): (data: Buffer) => SniffResult;
}

/** Every sniffer type; adding one is a file and a line here. */
export const SNIFFERS: ReadonlyMap<SnifferType, SnifferDefinition> = new Map<SnifferType, SnifferDefinition>([
  ['TLS', { protocol: 'tls', network: 'tcp', defaultPort: 443, maxPeek: TLS_MAX_PEEK, open: () => sniffTls }],
  ['HTTP', { protocol: 'http1', network: 'tcp', defaultPort: 80, maxPeek: HTTP_MAX_PEEK, open: () => sniffHttp }],
  [
    'QUIC',
    {
      protocol: 'quic',
      network: 'udp',
      defaultPort: 443,
      maxPeek: 0,
      open: () => {
        const hello = new QuicClientHello();
        return (d) => hello.push(d);
      },
    },
  ],
]);
