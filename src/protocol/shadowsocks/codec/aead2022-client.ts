import { randomBytes } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ProxyError } from '../../../core/errors.js';
import { AeadKey } from './aead.js';
import { aesBlock } from './aes-block.js';
import { ByteQueue } from './byte-queue.js';
import { AEAD2022_MAX_PAYLOAD, ChunkOpener, ChunkSealer } from './chunks.js';
import { splitList, totalLength, type Decoder, type Encoder } from './framing.js';
import { parseResponseFixed, requestFixedHeader, requestVariableHead } from './header-2022.js';
import { identitySubkey2022, pskHash2022, sessionSubkey2022 } from './kdf.js';
import type { MethodSpec } from './methods.js';

/** What the two halves of one 2022 client stream share: the salt the request went out with. */
export interface Session2022 {
  requestSalt?: Buffer;
}

/**
 * The identity headers of a TCP request (SIP023): for each iPSK but the user's, the next key's
 * hash encrypted with a subkey of that iPSK and the salt. Empty for a single PSK.
 */
export function tcpIdentityHeaders(psks: readonly Buffer[], salt: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < psks.length; i++) {
    out.push(aesBlock(identitySubkey2022(psks[i], salt), pskHash2022(psks[i + 1])));
  }
  return out;
}

/**
 * SIP022 request stream: salt, identity headers, the fixed header chunk and the variable
 * header chunk carrying the destination and the first payload, all in one write; then plain
 * chunks of up to 0xFFFF bytes. The session subkey comes from the last PSK (the user's).
 */
export class Aead2022ClientEncoder implements Encoder {
  readonly flushOnEnd = true;
  readonly #spec: MethodSpec;
  readonly #psks: readonly Buffer[];
  readonly #dest: Address;
  readonly #session: Session2022;
  #sealer: ChunkSealer | undefined;

  constructor(spec: MethodSpec, psks: readonly Buffer[], dest: Address, session: Session2022) {
    this.#spec = spec;
    this.#psks = psks;
    this.#dest = dest;
    this.#session = session;
  }

  get holding(): boolean {
    return this.#sealer === undefined;
  }

  encode(list: readonly Buffer[], out: Buffer[]): void {
    if (this.#sealer !== undefined) {
      this.#sealer.seal(list, out);
      return;
    }
    const salt = randomBytes(this.#spec.saltSize);
    this.#session.requestSalt = salt;
    const upsk = this.#psks[this.#psks.length - 1];
    const sealer = new ChunkSealer(new AeadKey(this.#spec.aead!, sessionSubkey2022(upsk, salt)), AEAD2022_MAX_PAYLOAD);
    this.#sealer = sealer;
    out.push(salt, ...tcpIdentityHeaders(this.#psks, salt));
    const total = totalLength(list);
    const head = requestVariableHead(this.#dest, total);
    const initial = Math.min(total, AEAD2022_MAX_PAYLOAD - head.length);
    const first: Buffer[] = [head];
    const rest: Buffer[] = [];
    splitList(list, initial, first, rest);
    sealer.sealMessage(requestFixedHeader(head.length + initial), out);
    sealer.sealPieces(first, out);
    if (rest.length > 0) sealer.seal(rest, out);
  }
}

/**
 * SIP022 response stream: salt, the fixed header (type 1, timestamp, our request salt, first
 * payload length), the first payload chunk, then plain chunks.
 */
export class Aead2022ClientDecoder implements Decoder {
  readonly #spec: MethodSpec;
  readonly #upsk: Buffer;
  readonly #session: Session2022;
  readonly #q = new ByteQueue();
  #opener: ChunkOpener | undefined;
  /** header: the fixed header is next; empty: a tag-only first payload is next; chunks */
  #state: 'header' | 'empty' | 'chunks' = 'header';

  constructor(spec: MethodSpec, psks: readonly Buffer[], session: Session2022) {
    this.#spec = spec;
    this.#upsk = psks[psks.length - 1];
    this.#session = session;
  }

  decode(data: Buffer, out: Buffer[]): void {
    const q = this.#q;
    q.push(data);
    if (this.#opener === undefined) {
      if (q.length < this.#spec.saltSize) return;
      const salt = q.take(this.#spec.saltSize);
      this.#opener = new ChunkOpener(new AeadKey(this.#spec.aead!, sessionSubkey2022(this.#upsk, salt)), AEAD2022_MAX_PAYLOAD);
    }
    if (this.#state === 'header') {
      const requestSalt = this.#session.requestSalt;
      if (requestSalt === undefined) throw new ProxyError('PROTOCOL', 'response before any request');
      const h = this.#opener.openMessage(q, 1 + 8 + requestSalt.length + 2);
      if (h === undefined) return;
      const first = parseResponseFixed(h, requestSalt);
      if (first > 0) this.#opener.expect(first);
      this.#state = first > 0 ? 'chunks' : 'empty';
    }
    if (this.#state === 'empty') {
      // an empty first payload is still a (tag-only) chunk
      if (this.#opener.openMessage(q, 0) === undefined) return;
      this.#state = 'chunks';
    }
    this.#opener.open(q, out);
  }

  end(): void {
    if (this.#q.length > 0 || this.#opener?.midChunk) throw new ProxyError('PROTOCOL', 'stream ended inside a chunk');
  }
}
