import type { Duplex } from 'node:stream';
import type { Address } from '../../core/address.js';
import { ProxyError } from '../../core/errors.js';
import { readSocksAddress } from '../common/socks-address.js';
import { AeadDecoder, AeadEncoder } from './codec/aead-framing.js';
import { Aead2022ServerDecoder, Aead2022ServerEncoder, type Request2022 } from './codec/aead2022-server.js';
import { CipherDuplex } from './codec/cipher-duplex.js';
import type { Decoder, Encoder } from './codec/framing.js';
import type { SaltFilter } from './codec/replay.js';
import { PlainDecoder, PlainEncoder, StreamDecoder, StreamEncoder } from './codec/stream-framing.js';
import type { ServerKeys } from './server-keys.js';

/** What the server learns from a client stream's header. */
export interface ServerStreamEvents {
  /** the destination (and the 2022 user), before any payload is readable */
  onRequest(destination: Address, user: string | undefined): void;
  /** the header failed (bad key, replay, garbage): the stream now discards all input */
  onReject(err: Error): void;
}

// ATYP + length byte + 255-byte name + port: the longest SOCKS address
const MAX_ADDRESS = 1 + 1 + 255 + 2;

/**
 * Pre-2022 streams carry the destination in-band, in front of the first payload: this
 * decoder buffers plaintext until the address is complete, reports it, then passes through.
 */
class AddressFirst implements Decoder {
  readonly #inner: Decoder;
  readonly #onAddress: (a: Address) => void;
  #head: Buffer | undefined = Buffer.alloc(0);
  readonly #parts: Buffer[] = [];

  constructor(inner: Decoder, onAddress: (a: Address) => void) {
    this.#inner = inner;
    this.#onAddress = onAddress;
  }

  decode(data: Buffer, out: Buffer[]): void {
    if (this.#head === undefined) return this.#inner.decode(data, out);
    const parts = this.#parts;
    parts.length = 0;
    this.#inner.decode(data, parts);
    if (parts.length === 0) return;
    const head = Buffer.concat([this.#head, ...parts]);
    parts.length = 0;
    const a = readSocksAddress(head, 0);
    if (a === undefined) {
      if (head.length >= MAX_ADDRESS) throw new ProxyError('PROTOCOL', 'no address in the request');
      this.#head = head;
      return;
    }
    this.#head = undefined;
    this.#onAddress(a.value);
    if (a.length < head.length) out.push(head.subarray(a.length));
  }

  end(): void {
    if (this.#head !== undefined) throw new ProxyError('PROTOCOL', 'stream ended before its address');
    this.#inner.end();
  }
}

/**
 * Until the request is known, a failing header must not make the server close at once (that
 * tells a prober how many bytes it took, SIP022 §3.1.3): the failure is reported once and
 * everything after is swallowed; the server ends its side and drains.
 */
class Guard implements Decoder {
  readonly #inner: Decoder;
  readonly #onReject: (err: Error) => void;
  requested = false;
  #rejected = false;

  constructor(inner: Decoder, onReject: (err: Error) => void) {
    this.#inner = inner;
    this.#onReject = onReject;
  }

  decode(data: Buffer, out: Buffer[]): void {
    if (this.#rejected) return;
    if (this.requested) return this.#inner.decode(data, out);
    try {
      this.#inner.decode(data, out);
    } catch (err) {
      out.length = 0;
      this.#rejected = true;
      this.#onReject(err as Error);
    }
  }

  end(): void {
    if (!this.#rejected) this.#inner.end();
  }
}

/** An Encoder chosen once the request is known (2022 responses depend on it). */
class LateEncoder implements Encoder {
  readonly flushOnEnd = false;
  target: Encoder | undefined;

  get holding(): boolean {
    return this.target?.holding ?? true;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (this.target === undefined) throw new ProxyError('PROTOCOL', 'response before the request');
    this.target.encode(list, out);
  }
}

/**
 * The server side of one client connection: decodes the request (any method), checks salts
 * against `filter`, and encodes the responses. Events fire from inside the returned stream's
 * decoding, before the payload they precede is readable.
 */
export function serverStream(socket: Duplex, keys: ServerKeys, filter: SaltFilter, events: ServerStreamEvents): CipherDuplex {
  const { spec, key } = keys;
  const encoder = new LateEncoder();
  const replay = (salt: Buffer): void => {
    if (!filter.add(salt)) throw new ProxyError('AUTH', 'replayed salt');
  };
  let guard: Guard;
  const requested = (dest: Address, user: string | undefined): void => {
    guard.requested = true;
    events.onRequest(dest, user);
  };
  let decoder: Decoder;
  switch (spec.kind) {
    case 'aead2022':
      decoder = new Aead2022ServerDecoder(spec, keys.keys2022!, replay, (r: Request2022) => {
        encoder.target = new Aead2022ServerEncoder(spec, r);
        requested(r.destination, r.user);
      });
      break;
    case 'aead':
      encoder.target = new AeadEncoder(spec, key);
      decoder = new AddressFirst(new AeadDecoder(spec, key, replay), (a) => requested(a, undefined));
      break;
    case 'stream':
      encoder.target = new StreamEncoder(spec, key);
      decoder = new AddressFirst(new StreamDecoder(spec, key, replay), (a) => requested(a, undefined));
      break;
    default:
      encoder.target = new PlainEncoder();
      decoder = new AddressFirst(new PlainDecoder(), (a) => requested(a, undefined));
  }
  guard = new Guard(decoder, (err) => events.onReject(err));
  return new CipherDuplex(socket, encoder, guard, { label: 'shadowsocks server' });
}
