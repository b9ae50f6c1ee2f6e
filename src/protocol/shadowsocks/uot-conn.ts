import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { PacketConn } from '../../core/outbound.js';
import { StreamPacketConn, type DatagramSink, type PacketFraming } from '../common/stream-packet-conn.js';
import type { Packet } from './codec/packet.js';
import { encodeUotFrame, UotFrameDecoder, uotRequest } from './codec/uot.js';

/** Datagrams queued on the stream past this are dropped, as a full socket would. */
const MAX_QUEUED = 4 << 20;

/**
 * UDP-over-TCP (sing's UoT, versions 1 and 2) on one Shadowsocks stream: each datagram is a
 * frame naming its destination. Version 2 sends its request (isConnect 0 + destination) in
 * the same write as the first frame. The stream's end or error closes the conn.
 */
export function uotPacketConn(stream: Duplex, version: 1 | 2, destination: Address): PacketConn {
  return new StreamPacketConn(stream, new UotFraming(version === 2 ? uotRequest(destination) : undefined), destination, MAX_QUEUED);
}

/** UoT frames both ways; the version 2 request rides with the first one. */
class UotFraming implements PacketFraming {
  readonly #decoder = new UotFrameDecoder();
  readonly #packets: Packet[] = [];
  #request: Buffer | undefined;

  constructor(request: Buffer | undefined) {
    this.#request = request;
  }

  encode(data: Buffer, to: Address): Buffer {
    const frame = encodeUotFrame(to, data);
    const request = this.#request;
    if (request === undefined) return frame;
    this.#request = undefined;
    return Buffer.concat([request, frame]);
  }

  decode(chunk: Buffer, sink: DatagramSink): boolean {
    const out = this.#packets;
    out.length = 0;
    this.#decoder.decode(chunk, out);
    for (const p of out) sink.datagram(p.payload, p.address);
    out.length = 0;
    return false;
  }
}
