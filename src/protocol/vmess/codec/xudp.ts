import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { decodePortAddress, portAddressSize, writePortAddress } from '../../common/port-address.js';
import type { ByteQueue } from './byte-queue.js';

/** Mux.Cool frame statuses. */
const STATUS = { NEW: 1, KEEP: 2, END: 3, KEEP_ALIVE: 4 } as const;
const OPTION_DATA = 1;
const OPTION_ERROR = 2;
const NETWORK_UDP = 2;

/**
 * One XUDP datagram as a Mux.Cool frame of session 0: `metaLen(2) ‖ 0 0 ‖ status ‖ option(data)
 * ‖ network(UDP) ‖ port+address ‖ dataLen(2) ‖ data`. The first frame of a connection is New,
 * the rest Keep, each naming its destination (servers that do per-packet addressing use it;
 * v2ray 4.34 sends everything to the New frame's destination).
 */
export function encodeXudpFrame(first: boolean, to: Address, data: Buffer): Buffer {
  const addrLen = portAddressSize(to);
  const out = Buffer.allocUnsafe(2 + 5 + addrLen + 2 + data.length);
  out.writeUInt16BE(5 + addrLen, 0);
  out[2] = 0;
  out[3] = 0;
  out[4] = first ? STATUS.NEW : STATUS.KEEP;
  out[5] = OPTION_DATA;
  out[6] = NETWORK_UDP;
  let at = writePortAddress(out, 7, to);
  out.writeUInt16BE(data.length, at);
  at += 2;
  data.copy(out, at);
  return out;
}

/** A datagram read back: its payload and who sent it. */
export interface XudpPacket {
  readonly data: Buffer;
  readonly from: Address;
}

/**
 * Reads the next XUDP datagram from `q`: a packet, 'end' when the server ends or errors the
 * session, undefined while a frame is incomplete. Frames without data (keep-alive) are skipped.
 * A Keep frame without an address (v2ray's) comes from `fallback`.
 */
export function readXudpFrame(q: ByteQueue, fallback: Address): XudpPacket | 'end' | undefined {
  for (;;) {
    if (q.length < 2) return undefined;
    const b = q.peekAll();
    const metaLen = b.readUInt16BE(0);
    if (metaLen < 4) throw new ProxyError('PROTOCOL', `XUDP frame metadata of ${metaLen} bytes`);
    if (b.length < 2 + metaLen) return undefined;
    const status = b[4];
    const option = b[5];
    let dataLen = 0;
    if (option & OPTION_DATA) {
      if (b.length < 2 + metaLen + 2) return undefined;
      dataLen = b.readUInt16BE(2 + metaLen);
      if (b.length < 2 + metaLen + 2 + dataLen) return undefined;
    }
    if (status !== STATUS.KEEP && status !== STATUS.END && status !== STATUS.KEEP_ALIVE) {
      throw new ProxyError('PROTOCOL', `unexpected XUDP frame status ${status}`);
    }
    let from = fallback;
    if (status === STATUS.KEEP && metaLen > 4) {
      const meta = b.subarray(2, 2 + metaLen);
      const a = decodePortAddress(meta, 5);
      if (!a) throw new ProxyError('PROTOCOL', 'XUDP frame address overruns its metadata');
      from = a.value;
    }
    q.take(2 + metaLen);
    const data = option & OPTION_DATA ? q.take(2 + dataLen).subarray(2) : undefined;
    if (status === STATUS.END || option & OPTION_ERROR) return 'end';
    if (data && status === STATUS.KEEP) return { data, from };
  }
}
