import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import type { PacketConn } from '../../core/outbound.js';
import { ByteQueue } from './codec/byte-queue.js';
import { ChunkReader, ChunkWriter, maxPacketPayload } from './codec/chunk.js';
import { openResponseHeader } from './codec/response.js';
import type { VmessSession } from './codec/session.js';
import { encodeXudpFrame, readXudpFrame } from './codec/xudp.js';

/** Above this much unsent data on the stream, datagrams are dropped rather than queued. */
const MAX_QUEUED = 1 << 20;

const sameAddress = (a: Address, b: Address): boolean => a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();

/**
 * UDP over one VMess stream. `xudp`: Mux.Cool frames carrying each datagram's address (command
 * MUX); otherwise (packet-encoding none) the stream is bound to `destination` (command UDP), one
 * chunk per datagram, and datagrams to any other address are dropped, as mihomo does.
 */
export class VmessPacketConn implements PacketConn {
  readonly #inner: Duplex;
  readonly #session: VmessSession;
  readonly #destination: Address;
  readonly #xudp: boolean;
  readonly #who: string;
  readonly #writer?: ChunkWriter;
  readonly #reader?: ChunkReader;
  readonly #maxPayload: number;
  readonly #q = new ByteQueue();
  readonly #xq = new ByteQueue();
  #head: Buffer | undefined;
  #gotHeader = false;
  #first = true;
  #closed = false;
  #onMessage: (data: Buffer, from: Address) => void = () => undefined;
  #onClose: (err?: Error) => void = () => undefined;

  constructor(inner: Duplex, session: VmessSession, sealedHeader: Buffer, o: { destination: Address; xudp: boolean; proxyName: string }) {
    this.#inner = inner;
    this.#session = session;
    this.#head = sealedHeader;
    this.#destination = o.destination;
    this.#xudp = o.xudp;
    this.#who = `proxy "${o.proxyName}"`;
    if (session.requestFraming) this.#writer = new ChunkWriter(session.requestFraming);
    if (session.responseFraming) this.#reader = new ChunkReader(session.responseFraming);
    this.#maxPayload = session.requestFraming ? maxPacketPayload(session.requestFraming) - (o.xudp ? 300 : 0) : 0xffff - 300;
    inner.on('data', this.#onData);
    inner.on('end', () => this.#fail());
    inner.on('error', (e: Error) => this.#fail(e));
    inner.on('close', () => this.#fail());
  }

  send(data: Buffer, to: Address): void {
    if (this.#closed || data.length === 0 || data.length > this.#maxPayload) return;
    if (!this.#xudp && !sameAddress(to, this.#destination)) return;
    if (this.#inner.writableLength > MAX_QUEUED) return;
    const head = this.#head;
    this.#head = undefined;
    let out: Buffer;
    try {
      if (this.#xudp) {
        const frame = encodeXudpFrame(this.#first, to, data);
        this.#first = false;
        out = this.#writer ? this.#writer.stream(frame, head) : head ? Buffer.concat([head, frame]) : frame;
      } else {
        out = this.#writer ? this.#writer.packet(data, head) : head ? Buffer.concat([head, data]) : data;
      }
    } catch {
      return; // an address that cannot be encoded: the datagram is dropped
    }
    this.#inner.write(out);
  }

  onMessage(handler: (data: Buffer, from: Address) => void): void {
    this.#onMessage = handler;
  }

  onClose(handler: (err?: Error) => void): void {
    this.#onClose = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner.destroy();
    this.#onClose();
  }

  #fail(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner.destroy();
    this.#onClose(err);
  }

  readonly #onData = (b: Buffer): void => {
    if (this.#closed) return;
    this.#q.push(b);
    try {
      this.#decode();
    } catch (err) {
      this.#fail(new ProxyError('PROTOCOL', `${this.#who}: ${(err as Error).message}`, { cause: err }));
    }
  };

  #decode(): void {
    const q = this.#q;
    if (!this.#gotHeader) {
      const r = openResponseHeader(this.#session.response, q.peekAll());
      if (!r) return;
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
      if (p === undefined) return;
      if (p === null) return this.#fail();
      if (!this.#xudp) {
        this.#onMessage(p, this.#destination);
        continue;
      }
      this.#xq.push(p);
      for (;;) {
        const pkt = readXudpFrame(this.#xq, this.#destination);
        if (pkt === undefined) break;
        if (pkt === 'end') return this.#fail();
        this.#onMessage(pkt.data, pkt.from);
      }
      if (this.#closed) return;
    }
  }
}
