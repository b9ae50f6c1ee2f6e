import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { encodeSocksAddress } from '../common/socks-address.js';
import { Aead2022ClientDecoder, Aead2022ClientEncoder, type Session2022 } from './codec/aead2022-client.js';
import { AeadDecoder, AeadEncoder } from './codec/aead-framing.js';
import { CipherDuplex } from './codec/cipher-duplex.js';
import type { Decoder, Encoder } from './codec/framing.js';
import { evpBytesToKey, parsePsks } from './codec/kdf.js';
import type { MethodSpec } from './codec/methods.js';
import { PlainDecoder, PlainEncoder, StreamDecoder, StreamEncoder } from './codec/stream-framing.js';
import { Client2022PacketCrypto, legacyPacketCrypto, type PacketCrypto } from './packet-crypto.js';

/**
 * How long a client's request header waits for the first payload before it is sent alone
 * (server-first protocols). mihomo's tunnel waits up to 200 ms for the first client bytes; the
 * tunnel here replies to the client only after the dial, so its first bytes come one local
 * round trip later: 50 ms covers that without stalling server-first protocols much.
 */
export const HEADER_HOLD_MS = 50;

/** A method with its keys: the master key (pre-2022) or the PSK list (2022). */
export interface ClientKeys {
  readonly spec: MethodSpec;
  /** EVP_BytesToKey(password) for aead / stream methods; empty for none */
  readonly key: Buffer;
  /** 2022: iPSK…uPSK (one key for a single-user server) */
  readonly psks: readonly Buffer[];
}

/** Derives the keys of `spec` from a config password (validated by the schema already). */
export function clientKeys(spec: MethodSpec, password: string): ClientKeys {
  if (spec.kind === 'aead2022') {
    const psks = parsePsks(password, spec.keySize);
    if (typeof psks === 'string') throw new Error(psks);
    return { spec, key: Buffer.alloc(0), psks };
  }
  return { spec, key: spec.kind === 'none' ? Buffer.alloc(0) : evpBytesToKey(password, spec.keySize), psks: [] };
}

/**
 * The client side of one Shadowsocks TCP stream to `dest` over `inner` (a socket or plugin
 * layer): the method's encoder/decoder pair in a CipherDuplex that holds the request header
 * for the first payload.
 */
export function clientStream(inner: Duplex, keys: ClientKeys, dest: Address, label: string): CipherDuplex {
  const { spec } = keys;
  let encoder: Encoder;
  let decoder: Decoder;
  switch (spec.kind) {
    case 'aead2022': {
      const session: Session2022 = {};
      encoder = new Aead2022ClientEncoder(spec, keys.psks, dest, session);
      decoder = new Aead2022ClientDecoder(spec, keys.psks, session);
      break;
    }
    case 'aead':
      encoder = new AeadEncoder(spec, keys.key, encodeSocksAddress(dest));
      decoder = new AeadDecoder(spec, keys.key);
      break;
    case 'stream':
      encoder = new StreamEncoder(spec, keys.key, encodeSocksAddress(dest));
      decoder = new StreamDecoder(spec, keys.key);
      break;
    default:
      encoder = new PlainEncoder(encodeSocksAddress(dest));
      decoder = new PlainDecoder();
  }
  return new CipherDuplex(inner, encoder, decoder, { holdMs: HEADER_HOLD_MS, label });
}

/** The datagram crypto of one client UDP association. */
export function clientPacketCrypto(keys: ClientKeys): PacketCrypto {
  return keys.spec.kind === 'aead2022' ? new Client2022PacketCrypto(keys.spec, keys.psks) : legacyPacketCrypto(keys.spec, keys.key);
}
