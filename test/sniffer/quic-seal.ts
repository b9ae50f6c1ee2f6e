import { createCipheriv } from 'node:crypto';
import { headerMask, initialKeys, packetNonce, QUIC_VERSIONS } from '../../src/sniffer/quic-keys.js';

/** A QUIC varint (RFC 9000 16), in the shortest form for `v` (or `len` bytes). */
export function varint(v: number, len?: number): Buffer {
  const n = len ?? (v < 64 ? 1 : v < 16384 ? 2 : v < 2 ** 30 ? 4 : 8);
  const b = Buffer.alloc(n);
  let x = v;
  for (let i = n - 1; i >= 0; i--) {
    b[i] = x & 0xff;
    x = Math.floor(x / 256);
  }
  b[0] |= { 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 }[n] as number;
  return b;
}

/** A CRYPTO frame carrying `data` at stream offset `offset`. */
export function cryptoFrame(offset: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.of(0x06), varint(offset), varint(data.length), data]);
}

export interface SealOptions {
  readonly dcid: Buffer;
  readonly scid?: Buffer;
  readonly version?: number;
  readonly packetNumber?: number;
  /** 1..4 */
  readonly pnLength?: number;
  readonly token?: Buffer;
  /** plaintext frames */
  readonly payload: Buffer;
  /** pad the datagram to 1200 bytes with PADDING frames (RFC 9000 14.1) */
  readonly pad?: boolean;
}

/**
 * A client Initial packet sealed as RFC 9001 says (5.3 AEAD, 5.4 header protection), written
 * here apart from the sniffer's reader, with the Initial keys the RFC's appendix A checks.
 */
export function sealInitial(o: SealOptions): Buffer {
  const versionNo = o.version ?? 1;
  const version = QUIC_VERSIONS.get(versionNo);
  if (!version) throw new Error('unknown version');
  const pnLen = o.pnLength ?? 2;
  const pn = o.packetNumber ?? 0;
  const scid = o.scid ?? Buffer.alloc(0);
  const token = o.token ?? Buffer.alloc(0);
  let payload = o.payload;
  const headLen = (length: number) => 1 + 4 + 1 + o.dcid.length + 1 + scid.length + varint(token.length).length + token.length + varint(length, 2).length;
  if (o.pad) {
    const total = headLen(0) + pnLen + payload.length + 16;
    if (total < 1200) payload = Buffer.concat([payload, Buffer.alloc(1200 - total)]);
  }
  if (pnLen + payload.length < 4) payload = Buffer.concat([payload, Buffer.alloc(4 - pnLen - payload.length)]);
  const length = pnLen + payload.length + 16;
  const first = 0xc0 | (version.initialType << 4) | (pnLen - 1);
  const vb = Buffer.alloc(4);
  vb.writeUInt32BE(versionNo);
  const pnBytes = Buffer.alloc(pnLen);
  pnBytes.writeUIntBE(pn, 0, pnLen);
  const header = Buffer.concat([
    Buffer.of(first), vb, Buffer.of(o.dcid.length), o.dcid, Buffer.of(scid.length), scid,
    varint(token.length), token, varint(length, 2), pnBytes,
  ]);
  const keys = initialKeys(version, o.dcid);
  const gcm = createCipheriv('aes-128-gcm', keys.key, packetNonce(keys.iv, pn));
  gcm.setAAD(header);
  const sealed = Buffer.concat([gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const pnOffset = header.length - pnLen;
  const packet = Buffer.concat([header, sealed]);
  const sample = packet.subarray(pnOffset + 4, pnOffset + 20);
  const mask = headerMask(keys.hp, sample);
  packet[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLen; i++) packet[pnOffset + i] ^= mask[1 + i];
  return packet;
}
