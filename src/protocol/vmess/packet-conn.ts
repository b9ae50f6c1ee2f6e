import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { PacketConn } from '../../core/outbound.js';
import { StreamPacketConn, type DatagramSink, type PacketFraming } from '../common/stream-packet-conn.js';
import { encodeXudpFrame, XudpDecoder } from '../common/xudp.js';
import { ByteQueue } from './codec/byte-queue.js';
import { ChunkReader, ChunkWriter, maxPacketPayload } from './codec/chunk.js';
import { openResponseHeader } from './codec/response.js';
import type { VmessSession } from './codec/session.js';

const sameAddress = (a: Address, b: Address): boolean => a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();

/**
 * UDP over one VMess stream. `xudp`: Mux.Cool frames carrying each datagram's address (command
 * MUX); otherwise (packet-encoding none) the stream is bound to `destination` (command UDP), one
 * chunk per datagram, and datagrams to any other address are dropped, as mihomo does.
 */
export function vmessPacketConn(inner: Duplex, session: VmessSession, sealedHeader: Buffer, o: { destination: Address; xudp: boolean; proxyName: string }): PacketConn {
  return new StreamPacketConn(inner, new VmessPacketFraming(session, sealedHeader, o), o.destination);
}

/** The sealed request header rides with the first datagram; the response header opens the reply stream. */
class VmessPacketFraming implements PacketFraming {
  readonly #session: VmessSession;
  readonly #destination: Address;
  readonly #who: string;
  readonly #writer?: ChunkWriter;
  readonly #reader?: ChunkReader;
  readonly #maxPayload: number;
  readonly #q = new ByteQueue();
  readonly #xudp: XudpDecoder | undefined;
  #head: Buffer | undefined;
  #gotHeader = false;
  #first = true;

  constructor(session: VmessSession, sealedHeader: Buffer, o: { destination: Address; xudp: boolean; proxyName: string }) {
    this.#session = session;
    this.#head = sealedHeader;
    this.#destination = o.destination;
    this.#xudp = o.xudp ? new XudpDecoder() : undefined;
    this.#who = `proxy "${o.proxyName}"`;
    if (session.requestFraming) this.#writer = new ChunkWriter(session.requestFraming);
    if (session.responseFraming) this.#reader = new ChunkReader(session.responseFraming);
    this.#maxPayload = session.requestFraming ? maxPacketPayload(session.requestFraming) - (o.xudp ? 300 : 0) : 0xffff - 300;
  }

  encode(data: Buffer, to: Address): Buffer | undefined {
    if (data.length === 0 || data.length > this.#maxPayload) return undefined;
    if (this.#xudp === undefined && !sameAddress(to, this.#destination)) return undefined;
    let body = data;
    if (this.#xudp !== undefined) {
      body = encodeXudpFrame(this.#first, to, data);
      this.#first = false;
    }
    const head = this.#head;
    this.#head = undefined;
    if (this.#writer) return this.#xudp !== undefined ? this.#writer.stream(body, head) : this.#writer.packet(body, head);
    return head ? Buffer.concat([head, body]) : body;
  }

  decode(chunk: Buffer, sink: DatagramSink): boolean {
    try {
      return this.#decode(chunk, sink);
    } catch (err) {
      throw new ProxyError('PROTOCOL', `${this.#who}: ${(err as Error).message}`, { cause: err });
    }
  }

  #decode(chunk: Buffer, sink: DatagramSink): boolean {
    const q = this.#q;
    q.push(chunk);
    if (!this.#gotHeader) {
      const r = openResponseHeader(this.#session.response, q.peekAll());
      if (!r) return false;
      q.take(r.length);
      if (r.header.responseAuth !== this.#session.request.responseAuth) {
        throw new ProxyError('PROTOCOL', 'VMess response header does not echo our request');
      }
      this.#gotHeader = true;
    }
    for (;;) {
      let p: Buffer | null | undefined;
      if (this.#reader) p = this.#reader.next(q);
      else p = q.length > 0 ? q.takeAll() : undefined;
      if (p === undefined) return false;
      if (p === null) return true;
      if (this.#xudp === undefined) sink.datagram(p, undefined);
      else if (this.#xudp.push(p, sink)) return true;
    }
  }
}
