import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { portAddressSize, writePortAddress } from '../../common/port-address.js';

/** VLESS protocol version: the only one there is (the "preview" 0). */
export const VLESS_VERSION = 0;

/** Request commands. */
export const VLESS_CMD = { TCP: 1, UDP: 2, MUX: 3 } as const;

/** One of {@link VLESS_CMD}. */
export type VlessCommand = (typeof VLESS_CMD)[keyof typeof VLESS_CMD];

/**
 * The request header, with `payload` (the first client bytes) appended so that both leave in
 * one write: VERSION(0) UUID(16) ADDONS_LEN(0) CMD [PORT ATYP ADDR] PAYLOAD. MUX carries no
 * address (the server routes it to its Mux.Cool handler). No addons: flows are refused at
 * config time, so the addons field is always empty.
 */
export function encodeVlessRequest(uuid: Buffer, cmd: VlessCommand, dest: Address | undefined, payload?: Buffer): Buffer {
  if (uuid.length !== 16) throw new RangeError('VLESS uuid must be 16 bytes');
  const withAddr = cmd !== VLESS_CMD.MUX;
  if (withAddr && dest === undefined) throw new RangeError('VLESS TCP/UDP request needs a destination');
  const addrSize = withAddr ? portAddressSize(dest!) : 0;
  const payloadSize = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(19 + addrSize + payloadSize);
  out[0] = VLESS_VERSION;
  uuid.copy(out, 1);
  out[17] = 0;
  out[18] = cmd;
  let at = 19;
  if (withAddr) at = writePortAddress(out, at, dest!);
  if (payload) payload.copy(out, at);
  return out.subarray(0, at + payloadSize);
}

/**
 * Parses the response header VERSION ADDONS_LEN ADDONS at the start of `buf` (addons are
 * skipped: no flow we support sends any we need). Returns its length, or undefined when more
 * bytes are needed. A version other than 0 is a PROTOCOL error: the peer is not a VLESS server
 * (or the stream is garbage), and passing its bytes on as data would be wrong.
 */
export function parseVlessResponse(buf: Buffer): number | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== VLESS_VERSION) throw new ProxyError('PROTOCOL', `unexpected VLESS response version ${buf[0]}`);
  if (buf.length < 2) return undefined;
  const total = 2 + buf[1];
  return buf.length < total ? undefined : total;
}
