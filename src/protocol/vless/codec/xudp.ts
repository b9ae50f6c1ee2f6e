import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { decodePortAddress, portAddressSize, writePortAddress } from '../../common/port-address.js';

/** Mux.Cool session states. */
const STATUS = { NEW: 1, KEEP: 2, END: 3, KEEP_ALIVE: 4 } as const;
const OPTION_DATA = 0x01;
const OPTION_ERROR = 0x02;
const NETWORK_UDP = 2;
/** v2ray refuses metadata longer than this; so do we */
const MAX_META = 512;

/**
 * One XUDP frame (Mux.Cool session 0 carrying UDP, as Xray and sing-vmess write it) for a
 * datagram to `to`: META_LEN(2) SESSION(2)=0 STATUS OPTION=data NETWORK=UDP PORT ATYP ADDR
 * [GLOBAL_ID(8), first frame only] DATA_LEN(2) DATA. The first frame is NEW; later ones are
 * KEEP, which also name their destination (servers that support XUDP send each datagram where
 * its frame says; older v2ray sends all to the NEW frame's target).
 */
export function encodeXudpFrame(first: boolean, to: Address, data: Buffer, globalId?: Buffer): Buffer {
  if (data.length > 0xffff) throw new RangeError('XUDP datagram longer than 65535 bytes');
  const gid = first && globalId ? globalId.subarray(0, 8) : undefined;
  const meta = 5 + portAddressSize(to) + (gid ? 8 : 0);
  const out = Buffer.allocUnsafe(2 + meta + 2 + data.length);
  out.writeUInt16BE(meta, 0);
  out.writeUInt16BE(0, 2);
  out[4] = first ? STATUS.NEW : STATUS.KEEP;
  out[5] = OPTION_DATA;
  out[6] = NETWORK_UDP;
  let at = writePortAddress(out, 7, to);
  if (gid) {
    gid.copy(out, at);
    at += 8;
  }
  out.writeUInt16BE(data.length, at);
  data.copy(out, at + 2);
  return out;
}

/** The END frame of session 0: sent when the client closes the UDP session. */
export function encodeXudpEnd(): Buffer {
  return Buffer.from([0, 4, 0, 0, STATUS.END, 0]);
}

/** A datagram read from the server; `from` is absent when the frame did not say (old v2ray). */
export interface XudpPacket {
  readonly data: Buffer;
  readonly from?: Address;
}

/** What one {@link XudpDecoder.push} yields. */
export interface XudpRead {
  readonly packets: XudpPacket[];
  /** the server ended the session (END, or an ERROR option) */
  readonly ended: boolean;
}

/**
 * Incremental reader of the server's Mux.Cool frames on an XUDP stream. KEEP frames carry
 * datagrams (with their source address when the server writes one), KEEP_ALIVE frames are
 * skipped, END or the error option end the session. A NEW frame from the server, an oversized
 * metadata block or an unknown status is a PROTOCOL error.
 */
export class XudpDecoder {
  #pending: Buffer | undefined;

  push(chunk: Buffer): XudpRead {
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    const packets: XudpPacket[] = [];
    let at = 0;
    let ended = false;
    while (!ended && buf.length - at >= 2) {
      const metaLen = buf.readUInt16BE(at);
      if (metaLen < 4 || metaLen > MAX_META) throw new ProxyError('PROTOCOL', `XUDP metadata length ${metaLen}`);
      if (buf.length - at < 2 + metaLen) break;
      const m = at + 2;
      const status = buf[m + 2];
      const option = buf[m + 3];
      let dataAt = m + metaLen;
      let dataLen = 0;
      if (option & OPTION_DATA) {
        if (buf.length - dataAt < 2) break;
        dataLen = buf.readUInt16BE(dataAt);
        dataAt += 2;
        if (buf.length - dataAt < dataLen) break;
      }
      if (status === STATUS.KEEP) {
        let from: Address | undefined;
        if (metaLen > 4 && buf[m + 4] === NETWORK_UDP) {
          const a = decodePortAddress(buf.subarray(0, m + metaLen), m + 5);
          if (!a) throw new ProxyError('PROTOCOL', 'XUDP frame address truncated');
          from = a.value;
        }
        if (option & OPTION_DATA && dataLen > 0) packets.push({ data: buf.subarray(dataAt, dataAt + dataLen), from });
      } else if (status === STATUS.END) {
        ended = true;
      } else if (status !== STATUS.KEEP_ALIVE) {
        throw new ProxyError('PROTOCOL', `unexpected XUDP frame status ${status}`);
      }
      if (option & OPTION_ERROR) ended = true;
      at = dataAt + dataLen;
    }
    if (!ended && at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
    return { packets, ended };
  }

  /** Bytes of an unfinished frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }
}
