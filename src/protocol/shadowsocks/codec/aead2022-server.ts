import { randomBytes } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { AeadKey } from './aead.js';
import { aesBlock } from './aes-block.js';
import { ByteQueue } from './byte-queue.js';
import { AEAD2022_MAX_PAYLOAD, ChunkOpener, ChunkSealer } from './chunks.js';
import { splitList, totalLength, type Decoder, type Encoder } from './framing.js';
import { parseRequestFixed, parseRequestVariable, REQUEST_FIXED_SIZE, responseFixedHeader } from './header-2022.js';
import { identitySubkey2022, sessionSubkey2022 } from './kdf.js';
import type { MethodSpec } from './methods.js';

/** A user of a multi-user 2022 server, found by the hash in its identity header. */
export interface User2022 {
  readonly name: string;
  readonly psk: Buffer;
}

/** A 2022 server's keys: its PSK, and with `users` that PSK is the identity PSK (iPSK). */
export interface ServerKeys2022 {
  readonly psk: Buffer;
  /** hex of BLAKE3(uPSK)[0..16] → user; absent for a single-PSK server */
  readonly users?: ReadonlyMap<string, User2022>;
}

/** What a request header told the server. */
export interface Request2022 {
  readonly destination: Address;
  readonly salt: Buffer;
  /** the key the session runs on (the user's, or the server PSK) */
  readonly psk: Buffer;
  readonly user?: string;
}

/**
 * Server side of a SIP022 request stream: salt, identity header (multi-user), fixed header,
 * variable header, then chunks. `checkSalt` runs after the timestamp was found fresh and
 * throws for a replayed salt; `onRequest` is told the destination before any payload is
 * decoded.
 */
export class Aead2022ServerDecoder implements Decoder {
  readonly #spec: MethodSpec;
  readonly #keys: ServerKeys2022;
  readonly #checkSalt: (salt: Buffer) => void;
  readonly #onRequest: (r: Request2022) => void;
  readonly #q = new ByteQueue();
  #opener: ChunkOpener | undefined;
  #salt: Buffer | undefined;
  #psk: Buffer | undefined;
  #user: string | undefined;
  #variable = 0;
  #state: 'salt' | 'fixed' | 'variable' | 'chunks' = 'salt';

  constructor(spec: MethodSpec, keys: ServerKeys2022, checkSalt: (salt: Buffer) => void, onRequest: (r: Request2022) => void) {
    this.#spec = spec;
    this.#keys = keys;
    this.#checkSalt = checkSalt;
    this.#onRequest = onRequest;
  }

  decode(data: Buffer, out: Buffer[]): void {
    const q = this.#q;
    q.push(data);
    if (this.#state === 'salt') {
      const users = this.#keys.users;
      const eih = users ? 16 : 0;
      if (q.length < this.#spec.saltSize + eih) return;
      const salt = Buffer.from(q.take(this.#spec.saltSize));
      let psk = this.#keys.psk;
      if (users) {
        const hash = aesBlock(identitySubkey2022(this.#keys.psk, salt), q.take(16), true);
        const user = users.get(hash.toString('hex'));
        if (!user) throw new ProxyError('AUTH', 'unknown user in identity header');
        psk = user.psk;
        this.#user = user.name;
      }
      this.#salt = salt;
      this.#psk = psk;
      this.#opener = new ChunkOpener(new AeadKey(this.#spec.aead!, sessionSubkey2022(psk, salt)), AEAD2022_MAX_PAYLOAD);
      this.#state = 'fixed';
    }
    const opener = this.#opener!;
    if (this.#state === 'fixed') {
      const h = opener.openMessage(q, REQUEST_FIXED_SIZE);
      if (h === undefined) return;
      this.#variable = parseRequestFixed(h);
      this.#checkSalt(this.#salt!);
      this.#state = 'variable';
    }
    if (this.#state === 'variable') {
      const v = opener.openMessage(q, this.#variable);
      if (v === undefined) return;
      const r = parseRequestVariable(v);
      this.#state = 'chunks';
      this.#onRequest({ destination: r.destination, salt: this.#salt!, psk: this.#psk!, user: this.#user });
      if (r.payload.length > 0) out.push(r.payload);
    }
    opener.open(q, out);
  }

  end(): void {
    if (this.#q.length > 0 || this.#state !== 'chunks' || this.#opener?.midChunk) {
      throw new ProxyError('PROTOCOL', 'stream ended inside a header or chunk');
    }
  }
}

/**
 * Server side of a SIP022 response stream: salt, the fixed header (which doubles as the first
 * length chunk), the first payload chunk, then plain chunks.
 */
export class Aead2022ServerEncoder implements Encoder {
  readonly flushOnEnd = false;
  readonly #spec: MethodSpec;
  readonly #psk: Buffer;
  readonly #requestSalt: Buffer;
  #sealer: ChunkSealer | undefined;

  constructor(spec: MethodSpec, request: Request2022) {
    this.#spec = spec;
    this.#psk = request.psk;
    this.#requestSalt = request.salt;
  }

  get holding(): boolean {
    return this.#sealer === undefined;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (this.#sealer !== undefined) {
      this.#sealer.seal(list, out);
      return;
    }
    const total = totalLength(list);
    if (total === 0) return; // the header always travels with payload
    const salt = randomBytes(this.#spec.saltSize);
    const sealer = new ChunkSealer(new AeadKey(this.#spec.aead!, sessionSubkey2022(this.#psk, salt)), AEAD2022_MAX_PAYLOAD);
    this.#sealer = sealer;
    const firstLength = Math.min(total, AEAD2022_MAX_PAYLOAD);
    const first: Buffer[] = [];
    const rest: Buffer[] = [];
    splitList(list, firstLength, first, rest);
    out.push(salt);
    sealer.sealMessage(responseFixedHeader(this.#requestSalt, firstLength), out);
    sealer.sealPieces(first, out);
    if (rest.length > 0) sealer.seal(rest, out);
  }
}
