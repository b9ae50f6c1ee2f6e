import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { UdpWriteBack } from '../../core/inbound.js';
import type { ServerContext } from './context.js';

/** One datagram read from a client's UDP-over-stream framing. */
export interface StreamDatagram {
  readonly data: Buffer;
  readonly to: Address;
}

/** How one protocol frames datagrams on its stream. */
export interface DatagramFraming {
  /** feeds stream bytes, returns the complete datagrams; throws on malformed framing */
  decode(chunk: Buffer): readonly StreamDatagram[];
  /** frames a reply from `from` */
  encode(data: Buffer, from: Address): Buffer | readonly Buffer[];
}

/**
 * Serves UDP carried inside one client stream (Trojan UDP ASSOCIATE, VLESS command 2): each
 * datagram goes to the tunnel's UDP side with this stream's source as the session key, replies
 * are framed back onto the stream. Malformed framing, or the stream ending, closes it.
 */
export function serveUdpStream(ctx: ServerContext, stream: Duplex, source: Address | undefined, user: string | undefined, framing: DatagramFraming): void {
  const writeBack: UdpWriteBack = {
    send(data: Buffer, from: Address): void {
      if (stream.destroyed || stream.writableEnded) return;
      const out = framing.encode(data, from);
      if (Buffer.isBuffer(out)) stream.write(out);
      else for (const b of out as readonly Buffer[]) stream.write(b);
    },
  };
  stream.on('data', (chunk: Buffer) => {
    let list: readonly StreamDatagram[];
    try {
      list = framing.decode(chunk);
    } catch (err) {
      ctx.log.debug(`[${ctx.name}] UDP framing: ${(err as Error).message}`);
      stream.destroy();
      return;
    }
    for (const p of list) ctx.handler.handleUdp(p.data, ctx.meta('udp', source, p.to, user), writeBack);
  });
  stream.on('end', () => stream.end());
  stream.resume();
}
