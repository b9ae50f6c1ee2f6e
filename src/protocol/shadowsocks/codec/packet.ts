import { randomBytes } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { readSocksAddress, socksAddressSize, writeSocksAddress } from '../../common/socks-address.js';
import { AeadKey, TAG_SIZE } from './aead.js';
import { aeadSubkey } from './kdf.js';
import type { MethodSpec } from './methods.js';
import { streamCipher } from './stream-cipher.js';

/** One UDP payload and the address it goes to (client→server) or came from (server→client). */
export interface Packet {
  readonly address: Address;
  /** a view into the decoded packet */
  readonly payload: Buffer;
}

/**
 * Pre-2022 UDP: every datagram is salt/IV + seal(ATYP ADDR PORT || payload), the same in
 * both directions. AEAD packets use a fresh salt, its own HKDF subkey and an all-zero nonce
 * (SIP004); stream packets a fresh IV; `none` sends the header in the clear.
 */
export class PacketCodec {
  readonly #spec: MethodSpec;
  readonly #key: Buffer;
  readonly #zeroNonce: Buffer;

  constructor(spec: MethodSpec, key: Buffer) {
    this.#spec = spec;
    this.#key = key;
    this.#zeroNonce = Buffer.alloc(spec.aead === 'xchacha20-poly1305' ? 24 : 12);
  }

  /** The datagram carrying `payload` for `address`. */
  encode(address: Address, payload: Buffer): Buffer {
    const spec = this.#spec;
    const head = Buffer.allocUnsafe(socksAddressSize(address));
    writeSocksAddress(head, 0, address);
    if (spec.kind === 'none') return Buffer.concat([head, payload]);
    const salt = randomBytes(spec.saltSize);
    if (spec.kind === 'stream') {
      const c = streamCipher(spec, this.#key, salt, false);
      return Buffer.concat([salt, c.update(head), c.update(payload)]);
    }
    const c = new AeadKey(spec.aead!, aeadSubkey(this.#key, salt)).encryptor(this.#zeroNonce);
    const a = c.update(head);
    const b = c.update(payload);
    c.final();
    return Buffer.concat([salt, a, b, c.getAuthTag()]);
  }

  /** The address and payload of a datagram; PROTOCOL error when it is short, forged or garbled. */
  decode(packet: Buffer): Packet {
    const spec = this.#spec;
    let plain: Buffer;
    if (spec.kind === 'none') {
      plain = packet;
    } else {
      const min = spec.saltSize + (spec.kind === 'aead' ? TAG_SIZE : 0);
      if (packet.length <= min) throw new ProxyError('PROTOCOL', `packet of ${packet.length} bytes is too short`);
      const salt = packet.subarray(0, spec.saltSize);
      const body = packet.subarray(spec.saltSize);
      if (spec.kind === 'stream') plain = streamCipher(spec, this.#key, salt, true).update(body);
      else plain = new AeadKey(spec.aead!, aeadSubkey(this.#key, salt)).open(this.#zeroNonce, body);
    }
    const a = readSocksAddress(plain, 0);
    if (a === undefined) throw new ProxyError('PROTOCOL', 'packet too short for its address');
    return { address: a.value, payload: plain.subarray(a.length) };
  }
}
