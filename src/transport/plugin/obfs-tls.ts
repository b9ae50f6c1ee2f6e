import type { StreamLayer } from '../../core/stream-layer.js';
import { FramedDuplex } from '../framed-duplex.js';
import { ObfsTlsClientCodec } from './obfs-tls-codec.js';

/**
 * simple-obfs `obfs=tls` as a StreamLayer (`host`: the fake SNI, mihomo's default bing.com).
 * The stream is handed out at once; the fake ClientHello goes with the first write.
 */
export function obfsTlsLayer(host: string): StreamLayer {
  return {
    wrap: async (inner) => new FramedDuplex(inner, new ObfsTlsClientCodec(host)),
  };
}
