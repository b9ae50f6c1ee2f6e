import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import type { PacketConn } from '../../core/outbound.js';
import type { Packet } from './codec/packet.js';
import { encodeUotFrame, UotFrameDecoder, uotRequest } from './codec/uot.js';

/**
 * UDP-over-TCP (sing's UoT, versions 1 and 2) on one Shadowsocks stream: each datagram is a
 * frame naming its destination. Version 2 sends its request (isConnect 0 + destination) in
 * the same write as the first frame. The stream's end or error closes the conn.
 */
export class UotPacketConn implements PacketConn {
  readonly #stream: Duplex;
  readonly #decoder = new UotFrameDecoder();
  readonly #packets: Packet[] = [];
  #request: Buffer | undefined;
  #onMessage: ((data: Buffer, from: Address) => void) | undefined;
  #onClose: ((err?: Error) => void) | undefined;
  #closed = false;
  #closeError: Error | undefined;

  constructor(stream: Duplex, version: 1 | 2, destination: Address) {
    this.#stream = stream;
    this.#request = version === 2 ? uotRequest(destination) : undefined;
    stream.on('data', this.#receive);
    stream.on('error', (err: Error) => this.#finish(err));
    stream.on('end', () => this.#finish(undefined));
    stream.on('close', () => this.#finish(undefined));
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed || this.#stream.destroyed || data.length > 0xffff) return;
    let frame: Buffer;
    try {
      frame = encodeUotFrame(to, data);
    } catch {
      return; // an address that cannot be framed: dropped like any lost datagram
    }
    if (this.#request !== undefined) {
      frame = Buffer.concat([this.#request, frame]);
      this.#request = undefined;
    }
    // no backpressure for datagrams: a full stream buffer drops, as a full socket would
    if (this.#stream.writableLength < 4 << 20) this.#stream.write(frame);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) handler(this.#closeError);
  }

  close(): void {
    this.#finish(undefined);
  }

  readonly #receive = (chunk: Buffer): void => {
    const out = this.#packets;
    out.length = 0;
    try {
      this.#decoder.decode(chunk, out);
    } catch (err) {
      this.#finish(err as Error);
      return;
    }
    for (const p of out) this.#onMessage?.(p.payload, p.address);
    out.length = 0;
  };

  #finish(err: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = err;
    this.#stream.destroy();
    this.#onClose?.(err);
  }
}
