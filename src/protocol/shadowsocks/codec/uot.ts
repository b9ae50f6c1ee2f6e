import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { encodeSocksAddress, readSocksAddress, socksAddressSize, UOT_FAMILIES, writeSocksAddress, type AddressFamilies } from '../../common/socks-address.js';
import { ByteQueue } from './byte-queue.js';
import type { Packet } from './packet.js';

/**
 * sing's UDP-over-TCP, as mihomo speaks it over a Shadowsocks stream: the stream's destination
 * is a magic name, then datagrams travel as frames. Version 1 (legacy) starts framing at once;
 * version 2 first sends a request (isConnect byte + SOCKS address). mihomo sends isConnect 0,
 * so every frame carries its own address.
 */
export const UOT_MAGIC_V1 = 'sp.udp-over-tcp.arpa';
/** The version 2 magic destination. */
export const UOT_MAGIC_V2 = 'sp.v2.udp-over-tcp.arpa';

/** The stream destination announcing UDP-over-TCP `version` (port 0, as sing writes it). */
export function uotDestination(version: 1 | 2): Address {
  return { host: version === 1 ? UOT_MAGIC_V1 : UOT_MAGIC_V2, port: 0 };
}

/** Which UoT version a stream destination announces, if any. */
export function uotVersionOf(dest: Address): 1 | 2 | undefined {
  const h = dest.host.toLowerCase();
  return h === UOT_MAGIC_V1 ? 1 : h === UOT_MAGIC_V2 ? 2 : undefined;
}

/** Version 2's request: isConnect (0: each frame names its destination), then `dest` in SOCKS form. */
export function uotRequest(dest: Address): Buffer {
  const a = encodeSocksAddress(dest);
  const out = Buffer.allocUnsafe(1 + a.length);
  out[0] = 0;
  a.copy(out, 1);
  return out;
}

/** One frame: UoT address (families 0/1/2), u16 length, payload. */
export function encodeUotFrame(address: Address, payload: Buffer): Buffer {
  if (payload.length > 0xffff) throw new ProxyError('PROTOCOL', `datagram of ${payload.length} bytes is too large`);
  const n = socksAddressSize(address);
  const out = Buffer.allocUnsafe(n + 2 + payload.length);
  let at = writeSocksAddress(out, 0, address, UOT_FAMILIES);
  out.writeUInt16BE(payload.length, at);
  at += 2;
  payload.copy(out, at);
  return out;
}

/**
 * Parses frames (and, for a version 2 server, the request first) out of a byte stream.
 * Bounded: an address is at most 259 bytes, a payload at most 65535.
 */
export class UotFrameDecoder {
  readonly #q = new ByteQueue();
  #needRequest: boolean;
  #pending: Address | undefined;
  #pendingLength = -1;

  /** `expectRequest`: a server reading a version 2 stream */
  constructor(expectRequest = false) {
    this.#needRequest = expectRequest;
  }

  /** Appends every complete datagram in `data` (plus what was buffered) to `out`. */
  decode(data: Buffer, out: Packet[]): void {
    const q = this.#q;
    q.push(data);
    for (;;) {
      if (this.#needRequest) {
        const head = this.#peekAddress(1, undefined);
        if (head === undefined) return;
        q.take(head);
        this.#needRequest = false;
      }
      if (this.#pending === undefined) {
        const n = this.#peekAddress(0, UOT_FAMILIES);
        if (n === undefined) return;
        const bytes = q.take(n);
        this.#pending = readSocksAddress(bytes, 0, UOT_FAMILIES)!.value;
        this.#pendingLength = -1;
      }
      if (this.#pendingLength < 0) {
        if (q.length < 2) return;
        this.#pendingLength = q.take(2).readUInt16BE(0);
      }
      if (q.length < this.#pendingLength) return;
      out.push({ address: this.#pending, payload: Buffer.from(q.take(this.#pendingLength)) });
      this.#pending = undefined;
    }
  }

  /** Length of the address at `skip` once it is fully buffered (plus `skip`), else undefined. */
  #peekAddress(skip: number, fam: AddressFamilies | undefined): number | undefined {
    const q = this.#q;
    const want = Math.min(q.length, skip + 1 + 1 + 255 + 2);
    if (want <= skip) return undefined;
    const view = Buffer.allocUnsafe(want);
    for (let i = 0; i < want; i++) view[i] = q.peekByte(i);
    const a = readSocksAddress(view, skip, fam);
    return a === undefined ? undefined : skip + a.length;
  }
}
