import type { Duplex } from 'node:stream';

/**
 * One transport layer (tls, ws, h2, grpc, httpupgrade, a plugin): takes the stream below and
 * returns the stream above. Layers compose in the order transport/build.ts chooses.
 */
export interface StreamLayer {
  wrap(inner: Duplex, signal: AbortSignal): Promise<Duplex>;
}
