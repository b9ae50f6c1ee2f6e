import { createHash } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';

/** Trojan request commands. */
export const TROJAN_CMD = { CONNECT: 1, UDP_ASSOCIATE: 3 } as const;

/** One of {@link TROJAN_CMD}. */
export type TrojanCommand = (typeof TROJAN_CMD)[keyof typeof TROJAN_CMD];

/** The 56 ASCII bytes of hex(SHA-224(password)): how Trojan names a user on the wire. */
export function trojanPasswordKey(password: string): Buffer {
  return Buffer.from(createHash('sha224').update(password, 'utf8').digest('hex'), 'latin1');
}

/**
 * The request: KEY(56) CRLF CMD ATYP ADDR PORT CRLF, with `payload` appended so that header and
 * first bytes leave in one write (one TLS record). For UDP ASSOCIATE the address is the first
 * datagram's destination (servers ignore it; each packet names its own).
 */
export function encodeTrojanRequest(key: Buffer, cmd: TrojanCommand, dest: Address, payload?: Buffer): Buffer {
  const payloadSize = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(key.length + 5 + socksAddressSize(dest) + payloadSize);
  key.copy(out, 0);
  let at = key.length;
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  out[at++] = cmd;
  at = writeSocksAddress(out, at, dest);
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  if (payload) payload.copy(out, at);
  return out.subarray(0, at + payloadSize);
}
