import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';

/** Largest payload per frame when sending, as mihomo and trojan-gfw use (bigger datagrams are split). */
export const TROJAN_MAX_PAYLOAD = 8192;

/**
 * UDP ASSOCIATE frames for one datagram: ATYP ADDR PORT LEN(2) CRLF PAYLOAD, split at
 * {@link TROJAN_MAX_PAYLOAD} as mihomo does. Concatenated into one buffer (one write).
 */
export function encodeTrojanPacket(to: Address, data: Buffer): Buffer {
  const addrSize = socksAddressSize(to);
  const frames = Math.max(1, Math.ceil(data.length / TROJAN_MAX_PAYLOAD));
  const out = Buffer.allocUnsafe(frames * (addrSize + 4) + data.length);
  let at = 0;
  for (let off = 0, i = 0; i < frames; i++, off += TROJAN_MAX_PAYLOAD) {
    const part = data.subarray(off, Math.min(data.length, off + TROJAN_MAX_PAYLOAD));
    at = writeSocksAddress(out, at, to);
    out.writeUInt16BE(part.length, at);
    out[at + 2] = 0x0d;
    out[at + 3] = 0x0a;
    part.copy(out, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** A datagram read from the server with its source. */
export interface TrojanPacket {
  readonly data: Buffer;
  readonly from: Address;
}

/**
 * Incremental reader of UDP ASSOCIATE frames from a byte stream. Frames up to 65535 bytes are
 * accepted; a missing CRLF or a bad address is a PROTOCOL error.
 */
export class TrojanPacketDecoder {
  #pending: Buffer | undefined;

  push(chunk: Buffer): TrojanPacket[] {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    const out: TrojanPacket[] = [];
    let at = 0;
    for (;;) {
      const a = readSocksAddress(buf, at);
      if (!a) break;
      const lenAt = at + a.length;
      if (buf.length < lenAt + 4) break;
      if (buf[lenAt + 2] !== 0x0d || buf[lenAt + 3] !== 0x0a) throw new ProxyError('PROTOCOL', 'Trojan UDP frame without CRLF');
      const n = buf.readUInt16BE(lenAt);
      if (buf.length < lenAt + 4 + n) break;
      out.push({ data: buf.subarray(lenAt + 4, lenAt + 4 + n), from: a.value });
      at = lenAt + 4 + n;
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
    return out;
  }

  /** Bytes of an unfinished frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }
}
