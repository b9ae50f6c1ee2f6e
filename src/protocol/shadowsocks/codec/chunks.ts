import { ProxyError } from '../../../core/errors.js';
import { AeadKey, incrementNonce, TAG_SIZE } from './aead.js';
import type { ByteQueue } from './byte-queue.js';

/** SIP004 caps a chunk's payload at 0x3FFF bytes. */
export const AEAD_MAX_PAYLOAD = 0x3fff;
/** SIP022 lifts the cap to the u16 maximum. */
export const AEAD2022_MAX_PAYLOAD = 0xffff;

/** A sealed length chunk: 2 bytes + tag. */
export const LENGTH_CHUNK_SIZE = 2 + TAG_SIZE;

/**
 * Seals plaintext into AEAD chunks (length chunk, payload chunk) with a little-endian counter
 * nonce, as SIP004 and SIP022 frame TCP. Small inputs are coalesced into one chunk (the
 * cipher is fed each piece, so coalescing costs no copy); bulk input is cut into full chunks.
 */
export class ChunkSealer {
  readonly #key: AeadKey;
  readonly #nonce: Buffer;
  readonly #max: number;
  readonly #group: Buffer[] = [];
  readonly #len = Buffer.alloc(2);

  constructor(key: AeadKey, maxPayload: number) {
    this.#key = key;
    this.#nonce = Buffer.alloc(key.nonceSize);
    this.#max = maxPayload;
  }

  /** Seals one whole message (a header chunk) with the next nonce; appends ct and tag. */
  sealMessage(plain: Buffer, out: Buffer[]): void {
    const c = this.#key.encryptor(this.#nonce);
    incrementNonce(this.#nonce);
    out.push(c.update(plain));
    c.final();
    out.push(c.getAuthTag());
  }

  /** Seals one message given as pieces (their total is the message). */
  sealPieces(pieces: readonly Buffer[], out: Buffer[]): void {
    const c = this.#key.encryptor(this.#nonce);
    incrementNonce(this.#nonce);
    for (const p of pieces) if (p.length > 0) out.push(c.update(p));
    c.final();
    out.push(c.getAuthTag());
  }

  /** Seals `list` (taken in order as one byte string) as length + payload chunk pairs. */
  seal(list: readonly Buffer[], out: Buffer[]): void {
    const group = this.#group;
    let groupLen = 0;
    for (const buf of list) {
      let off = 0;
      while (off < buf.length) {
        const take = Math.min(this.#max - groupLen, buf.length - off);
        group.push(off === 0 && take === buf.length ? buf : buf.subarray(off, off + take));
        groupLen += take;
        off += take;
        if (groupLen === this.#max) {
          this.#sealChunk(groupLen, out);
          groupLen = 0;
        }
      }
    }
    if (groupLen > 0) this.#sealChunk(groupLen, out);
  }

  #sealChunk(n: number, out: Buffer[]): void {
    this.#len.writeUInt16BE(n, 0);
    this.sealMessage(this.#len, out);
    this.sealPieces(this.#group, out);
    this.#group.length = 0;
  }
}

/**
 * Opens AEAD chunks from a ByteQueue. Plaintext is released only after its tag verified.
 * A zero or over-cap length, or a tag mismatch, is a PROTOCOL error.
 */
export class ChunkOpener {
  readonly #key: AeadKey;
  readonly #nonce: Buffer;
  readonly #max: number;
  /** length of the payload chunk expected next; 0 when a length chunk is expected */
  #pending = 0;
  readonly #views: Buffer[] = [];

  constructor(key: AeadKey, maxPayload: number) {
    this.#key = key;
    this.#nonce = Buffer.alloc(key.nonceSize);
    this.#max = maxPayload;
  }

  /** True while a chunk has been started but not completed. */
  get midChunk(): boolean {
    return this.#pending !== 0;
  }

  /** Opens one whole message of `n` plaintext bytes (+ tag) from `q`; undefined if `q` is short. */
  openMessage(q: ByteQueue, n: number): Buffer | undefined {
    const parts: Buffer[] = [];
    if (!this.#openParts(q, n, parts)) return undefined;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  /** Opens `n` bytes + tag into `parts` (one piece per received buffer: no copy); false if short. */
  #openParts(q: ByteQueue, n: number, parts: Buffer[]): boolean {
    if (q.length < n + TAG_SIZE) return false;
    const views = this.#views;
    q.takeViews(n, views);
    const tag = q.take(TAG_SIZE);
    const d = this.#key.decryptor(this.#nonce);
    incrementNonce(this.#nonce);
    const start = parts.length;
    for (const v of views) parts.push(d.update(v));
    views.length = 0;
    d.setAuthTag(tag);
    try {
      d.final();
    } catch {
      parts.length = start; // nothing unauthenticated leaves
      throw new ProxyError('PROTOCOL', 'chunk failed authentication (wrong password or cipher?)');
    }
    return true;
  }

  /** Expects a payload chunk of `n` bytes next (SIP022 headers announce the first one). */
  expect(n: number): void {
    this.#pending = n;
  }

  /** Opens every complete chunk in `q`, appending plaintext payloads to `out`. */
  open(q: ByteQueue, out: Buffer[]): void {
    for (;;) {
      if (this.#pending === 0) {
        const len = this.openMessage(q, 2);
        if (len === undefined) return;
        const n = len.readUInt16BE(0);
        if (n === 0 || n > this.#max) throw new ProxyError('PROTOCOL', `bad chunk length ${n}`);
        this.#pending = n;
      }
      if (!this.#openParts(q, this.#pending, out)) return;
      this.#pending = 0;
    }
  }
}
