import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import {
  MUX_HEAD,
  MUX_NETWORK,
  MUX_OPTION_DATA,
  MUX_OPTION_ERROR,
  MUX_STATUS,
  muxControlFrame,
  muxDataLength,
  muxPrefixLength,
  writeMuxHead,
} from '../../transport/mux-cool-frame.js';
import { decodePortAddress, portAddressSize, writePortAddress } from './port-address.js';
import type { DatagramSink } from './stream-packet-conn.js';

/** The length of a GlobalID (Xray's XUDP extension). */
const GLOBAL_ID = 8;

/**
 * The bytes of one XUDP frame (Mux.Cool session 0 carrying UDP, as Xray and sing-vmess write
 * it) for a datagram to `to`: META_LEN SESSION=0 STATUS OPTION=Data NETWORK=UDP PORT ATYP ADDR
 * [GLOBAL_ID(8), first frame only] DATA_LEN DATA. The first frame is New, later ones Keep,
 * which also name their destination (servers with XUDP send each datagram where its frame
 * says; v2ray 4.34 sends all to the New frame's target).
 */
export function xudpFrameSize(first: boolean, to: Address, data: Buffer, globalId?: Buffer): number {
  return MUX_HEAD + 1 + portAddressSize(to) + (first && globalId ? GLOBAL_ID : 0) + 2 + data.length;
}

/**
 * Writes the XUDP frame of {@link xudpFrameSize} at `at`; returns the offset after it. Throws
 * PROTOCOL for a datagram over 65535 bytes or an address that cannot be encoded.
 */
export function writeXudpFrame(out: Buffer, at: number, first: boolean, to: Address, data: Buffer, globalId?: Buffer): number {
  if (data.length > 0xffff) throw new ProxyError('PROTOCOL', `XUDP datagram of ${data.length} bytes (at most 65535)`);
  const gid = first && globalId ? GLOBAL_ID : 0;
  at = writeMuxHead(out, at, 0, first ? MUX_STATUS.NEW : MUX_STATUS.KEEP, MUX_OPTION_DATA, 1 + portAddressSize(to) + gid);
  out[at] = MUX_NETWORK.UDP;
  at = writePortAddress(out, at + 1, to);
  if (gid) {
    globalId!.copy(out, at, 0, GLOBAL_ID);
    at += GLOBAL_ID;
  }
  out.writeUInt16BE(data.length, at);
  data.copy(out, at + 2);
  return at + 2 + data.length;
}

/** One XUDP frame as a new buffer. */
export function encodeXudpFrame(first: boolean, to: Address, data: Buffer, globalId?: Buffer): Buffer {
  const out = Buffer.allocUnsafe(xudpFrameSize(first, to, data, globalId));
  writeXudpFrame(out, 0, first, to, data, globalId);
  return out;
}

/** The End frame of session 0: sent when the client closes the UDP session. */
export function encodeXudpEnd(): Buffer {
  return muxControlFrame(0, MUX_STATUS.END);
}

/**
 * Incremental reader of a server's Mux.Cool frames on an XUDP stream. Keep frames carry
 * datagrams (with their source address when the server writes one; none from v2ray 4.34), KeepAlive frames are
 * skipped, End or the Error option end the session. A New frame from the server, metadata
 * outside 4..512 bytes or an unknown status is a PROTOCOL error. Datagrams are views into the
 * input; only a frame split across reads is copied.
 */
export class XudpDecoder {
  #pending: Buffer | undefined;
  #ended = false;

  /** Feeds stream bytes; each complete datagram goes to `sink`. True once the session ended. */
  push(chunk: Buffer, sink: DatagramSink): boolean {
    if (this.#ended) return true;
    const buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    let at = 0;
    while (at < buf.length) {
      const prefix = muxPrefixLength(buf, at);
      if (buf.length - at < prefix) break;
      const dataLen = muxDataLength(buf, at);
      if (buf.length - at < prefix + dataLen) break;
      const status = buf[at + 4];
      const option = buf[at + 5];
      if (status === MUX_STATUS.KEEP) {
        if (option & MUX_OPTION_DATA && dataLen > 0) sink.datagram(buf.subarray(at + prefix, at + prefix + dataLen), this.#source(buf, at));
      } else if (status === MUX_STATUS.END) {
        this.#ended = true;
      } else if (status !== MUX_STATUS.KEEP_ALIVE) {
        throw new ProxyError('PROTOCOL', `unexpected XUDP frame status ${status}`);
      }
      if (option & MUX_OPTION_ERROR) this.#ended = true;
      if (this.#ended) return true;
      at += prefix + dataLen;
    }
    if (at < buf.length) this.#pending = Buffer.from(buf.subarray(at));
    return false;
  }

  /** Bytes of an unfinished frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  /** The source a Keep frame at `at` names, if it names one (NETWORK UDP and an address). */
  #source(buf: Buffer, at: number): Address | undefined {
    const metaEnd = at + 2 + buf.readUInt16BE(at);
    if (metaEnd <= at + MUX_HEAD || buf[at + MUX_HEAD] !== MUX_NETWORK.UDP) return undefined;
    const a = decodePortAddress(buf.subarray(0, metaEnd), at + MUX_HEAD + 1);
    if (a === undefined) throw new ProxyError('PROTOCOL', 'XUDP frame address overruns its metadata');
    return a.value;
  }
}
