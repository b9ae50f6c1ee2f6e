import { randomBytes, randomInt } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';
import { AeadKey, TAG_SIZE } from './aead.js';
import { aesBlock } from './aes-block.js';
import { checkTimestamp, HEADER_CLIENT, HEADER_SERVER, MAX_PADDING, writeTimestamp } from './header-2022.js';
import { pskHash2022, sessionSubkey2022 } from './kdf.js';
import type { MethodSpec } from './methods.js';
import type { Packet } from './packet.js';

/** One direction's UDP session: its id, its packet counter, and (AES variants) its AEAD. */
export interface UdpSession {
  /** 8 random bytes */
  readonly id: Buffer;
  /** the next packet id */
  packetId: number;
  /** AES variants: the session subkey's AEAD (from the user's PSK and `id`) */
  readonly key?: AeadKey;
}

/** A fresh session for sending; `psk` is the user's key (the last PSK). */
export function newUdpSession(spec: MethodSpec, psk: Buffer): UdpSession {
  const id = randomBytes(8);
  return { id, packetId: 0, key: isChacha(spec) ? undefined : new AeadKey(spec.aead!, sessionSubkey2022(psk, id)) };
}

/** A 2022 UDP packet as opened: ids, the peer session's header fields, payload. */
export interface Packet2022 extends Packet {
  /** the sender's session id */
  readonly sessionId: Buffer;
  readonly packetId: number;
  /** server→client only: the client session the reply belongs to */
  readonly clientSessionId?: Buffer;
}

const isChacha = (spec: MethodSpec): boolean => spec.aead === 'chacha20-poly1305';

/** 2022-blake3-chacha20-poly1305 UDP seals whole packets with XChaCha20-Poly1305 and the PSK. */
function xchacha(psk: Buffer): AeadKey {
  return new AeadKey('xchacha20-poly1305', psk);
}

/**
 * Seals one packet of `session` (SIP022 §3.2 / §4.1, identity headers per SIP023).
 * `psks` is the sender's key list: a client's iPSK…uPSK, or a server's single user key.
 * `clientSessionId` is set for server→client packets.
 */
export function sealPacket2022(
  spec: MethodSpec,
  psks: readonly Buffer[],
  session: UdpSession,
  address: Address,
  payload: Buffer,
  clientSessionId?: Buffer,
): Buffer {
  const chacha = isChacha(spec);
  const server = clientSessionId !== undefined;
  // DNS queries get padding, as sing pads them: their sizes are the most telling
  const padding = !server && address.port === 53 && payload.length < MAX_PADDING ? randomInt(1, MAX_PADDING - payload.length + 1) : 0;
  const sep = Buffer.allocUnsafe(16);
  session.id.copy(sep, 0);
  sep.writeBigUInt64BE(BigInt(session.packetId++), 8);
  const headLength = (chacha ? 16 : 0) + 1 + 8 + (server ? 8 : 0) + 2 + padding + socksAddressSize(address);
  const head = Buffer.alloc(headLength);
  let at = 0;
  if (chacha) at += sep.copy(head, 0);
  head[at++] = server ? HEADER_SERVER : HEADER_CLIENT;
  writeTimestamp(head, at);
  at += 8;
  if (server) at += clientSessionId.copy(head, at);
  head.writeUInt16BE(padding, at);
  at += 2 + padding;
  writeSocksAddress(head, at, address);
  if (chacha) {
    const nonce = randomBytes(24);
    const c = xchacha(psks[0]).encryptor(nonce);
    const a = c.update(head);
    const b = c.update(payload);
    c.final();
    return Buffer.concat([nonce, a, b, c.getAuthTag()]);
  }
  const identity: Buffer[] = [];
  for (let i = 0; i + 1 < psks.length; i++) {
    const block = pskHash2022(psks[i + 1]);
    for (let k = 0; k < 16; k++) block[k] ^= sep[k];
    identity.push(aesBlock(psks[i], block));
  }
  const c = session.key!.encryptor(sep.subarray(4, 16));
  const a = c.update(head);
  const b = c.update(payload);
  c.final();
  return Buffer.concat([aesBlock(psks[0], sep), ...identity, a, b, c.getAuthTag()]);
}

/** Finds a peer session's AEAD (AES variants), deriving and caching it as the caller likes. */
export type SessionKeyLookup = (sessionId: Buffer, psk: Buffer) => AeadKey;

/** What opening a packet needs: the receiver's keys and, for servers, how to find users. */
export interface OpenKeys {
  /** the key the separate header (and for chacha the packet) is encrypted with */
  readonly psk: Buffer;
  /** multi-user server: BLAKE3(uPSK)[0..16] hex → user key; the packet carries one identity header */
  readonly users?: ReadonlyMap<string, { readonly name: string; readonly psk: Buffer }>;
}

/** An opened packet and the key its session runs on (the user's, on a multi-user server). */
export interface Opened2022 extends Packet2022 {
  readonly psk: Buffer;
  readonly user?: string;
}

/**
 * Opens a 2022 UDP packet. `fromServer` selects the direction expected (a reply carries the
 * client session id). Throws PROTOCOL for short, forged, stale or wrongly typed packets; the
 * caller applies the sliding window to (sessionId, packetId).
 */
export function openPacket2022(spec: MethodSpec, keys: OpenKeys, packet: Buffer, fromServer: boolean, keyFor: SessionKeyLookup): Opened2022 {
  let body: Buffer;
  let sessionId: Buffer;
  let packetId: number;
  let psk = keys.psk;
  let user: string | undefined;
  if (isChacha(spec)) {
    if (packet.length < 24 + 16 + TAG_SIZE) throw new ProxyError('PROTOCOL', 'packet too short');
    const plain = xchacha(keys.psk).open(packet.subarray(0, 24), packet.subarray(24));
    sessionId = plain.subarray(0, 8);
    packetId = Number(plain.readBigUInt64BE(8));
    body = plain.subarray(16);
  } else {
    const eih = keys.users ? 16 : 0;
    if (packet.length < 16 + eih + TAG_SIZE) throw new ProxyError('PROTOCOL', 'packet too short');
    const sep = aesBlock(keys.psk, packet.subarray(0, 16), true);
    if (keys.users) {
      const hash = aesBlock(keys.psk, packet.subarray(16, 32), true);
      for (let k = 0; k < 16; k++) hash[k] ^= sep[k];
      const u = keys.users.get(hash.toString('hex'));
      if (!u) throw new ProxyError('AUTH', 'unknown user in identity header');
      psk = u.psk;
      user = u.name;
    }
    sessionId = sep.subarray(0, 8);
    packetId = Number(sep.readBigUInt64BE(8));
    body = keyFor(sessionId, psk).open(sep.subarray(4, 16), packet.subarray(16 + eih));
  }
  const want = fromServer ? HEADER_SERVER : HEADER_CLIENT;
  const fixed = 1 + 8 + (fromServer ? 8 : 0) + 2;
  if (body.length < fixed) throw new ProxyError('PROTOCOL', 'packet header cut short');
  if (body[0] !== want) throw new ProxyError('PROTOCOL', `bad packet header type ${body[0]}`);
  checkTimestamp(body, 1);
  const clientSessionId = fromServer ? body.subarray(9, 17) : undefined;
  const padAt = fixed - 2;
  const padding = body.readUInt16BE(padAt);
  const addrAt = padAt + 2 + padding;
  const a = readSocksAddress(body, addrAt);
  if (padding > MAX_PADDING || a === undefined) throw new ProxyError('PROTOCOL', 'packet header cut short');
  return { address: a.value, payload: body.subarray(addrAt + a.length), sessionId, packetId, clientSessionId, psk, user };
}
