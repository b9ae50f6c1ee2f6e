import { createDecipheriv } from 'node:crypto';
import { headerMask, initialKeys, packetNonce, QUIC_VERSIONS, type QuicVersion } from './quic-keys.js';
import { fail, more, type SniffResult } from './result.js';
import { MAX_CLIENT_HELLO, sniffClientHelloMessage } from './tls.js';

/** Part of the client's Initial CRYPTO stream (the TLS ClientHello), at its stream offset. */
export interface CryptoChunk {
  readonly offset: number;
  readonly data: Buffer;
}

/** The Initial packets of one datagram, opened: their connection ID and CRYPTO data. */
export type InitialDatagram =
  | { readonly kind: 'initial'; readonly dcid: Buffer; readonly chunks: readonly CryptoChunk[] }
  | { readonly kind: 'fail'; readonly reason: string };

const NOT_QUIC = { kind: 'fail', reason: 'not QUIC' } as const;
const NOT_INITIAL = { kind: 'fail', reason: 'not QUIC initial packet' } as const;
const TAG = 16;
const MAX_CID = 20;

/** A QUIC variable-length integer at `p` (RFC 9000 16): [value, next offset], or undefined past the end. */
export function readVarint(b: Buffer, p: number): [number, number] | undefined {
  if (p >= b.length) return undefined;
  const len = 1 << (b[p] >> 6);
  if (p + len > b.length) return undefined;
  let v = b[p] & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[p + i];
  return [v, p + len];
}

/**
 * Opens the client Initial packets of one UDP datagram (RFC 9000 17.2.2, RFC 9001 5): removes
 * header protection, decrypts with AES-128-GCM under the Initial keys of the Destination
 * Connection ID, and collects the CRYPTO frames. Coalesced packets after the first are read
 * too (0-RTT and Handshake ones are skipped by their Length); the buffer is never modified.
 */
export function readInitialDatagram(d: Buffer): InitialDatagram {
  let p = 0;
  let dcid: Buffer | undefined;
  const chunks: CryptoChunk[] = [];
  while (p < d.length) {
    const first = d[p];
    if ((first & 0x80) === 0) break; // a short header packet: the rest of the datagram is 1-RTT
    if (d.length < p + 7) return dcid ? done(dcid, chunks) : NOT_QUIC;
    const version = QUIC_VERSIONS.get(d.readUInt32BE(p + 1));
    if (!version || (first & 0x40) === 0) return dcid ? done(dcid, chunks) : NOT_QUIC;
    let q = p + 5;
    const dcidLen = d[q++];
    if (dcidLen > MAX_CID || q + dcidLen >= d.length) return dcid ? done(dcid, chunks) : NOT_QUIC;
    const id = d.subarray(q, q + dcidLen);
    q += dcidLen;
    const scidLen = d[q++];
    if (scidLen > MAX_CID) return dcid ? done(dcid, chunks) : NOT_QUIC;
    q += scidLen;
    const type = (first & 0x30) >> 4;
    const isInitial = type === version.initialType;
    if (isInitial) {
      const token = readVarint(d, q);
      if (!token || token[1] + token[0] > d.length) return dcid ? done(dcid, chunks) : NOT_QUIC;
      q = token[1] + token[0];
    } else if (type === (version.initialType + 3) % 4) {
      break; // Retry: no Length, nothing after it
    }
    const length = readVarint(d, q);
    if (!length) return dcid ? done(dcid, chunks) : NOT_QUIC;
    const pnOffset = length[1];
    const end = pnOffset + length[0];
    if (end > d.length) return dcid ? done(dcid, chunks) : NOT_QUIC;
    if (isInitial && (!dcid || dcid.equals(id))) {
      const opened = openInitial(d, p, pnOffset, end, version, id);
      if (opened === undefined) return dcid ? done(dcid, chunks) : NOT_INITIAL;
      if (!readFrames(opened, chunks)) return NOT_INITIAL;
      dcid ??= Buffer.from(id);
    } else if (!dcid) {
      return NOT_INITIAL; // the first packet must be the client's Initial
    }
    p = end;
  }
  return dcid ? done(dcid, chunks) : NOT_INITIAL;
}

function done(dcid: Buffer, chunks: CryptoChunk[]): InitialDatagram {
  return { kind: 'initial', dcid, chunks };
}

/** The plaintext payload of one protected Initial packet `d[start, end)`; undefined when it does not open. */
function openInitial(d: Buffer, start: number, pnOffset: number, end: number, version: QuicVersion, dcid: Buffer): Buffer | undefined {
  if (end - pnOffset < 4 + 16) return undefined; // room for the header-protection sample
  const keys = initialKeys(version, dcid);
  const mask = headerMask(keys.hp, d.subarray(pnOffset + 4, pnOffset + 20));
  const first = d[start] ^ (mask[0] & 0x0f);
  const pnLen = (first & 0x03) + 1;
  if (end - pnOffset - pnLen < TAG) return undefined;
  const header = Buffer.from(d.subarray(start, pnOffset + pnLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    header[pnOffset - start + i] ^= mask[1 + i];
    pn = pn * 256 + header[pnOffset - start + i];
  }
  try {
    const gcm = createDecipheriv('aes-128-gcm', keys.key, packetNonce(keys.iv, pn));
    gcm.setAAD(header);
    gcm.setAuthTag(d.subarray(end - TAG, end));
    const body = gcm.update(d.subarray(pnOffset + pnLen, end - TAG));
    gcm.final(); // throws when the tag does not match
    return body;
  } catch {
    return undefined;
  }
}

/**
 * The frames of an Initial payload: only those RFC 9000 permits there (PADDING, PING, ACK,
 * CRYPTO, CONNECTION_CLOSE); CRYPTO data goes to `chunks`. false on any other frame or a
 * truncated one.
 */
function readFrames(b: Buffer, chunks: CryptoChunk[]): boolean {
  let p = 0;
  const skip = (n: number): boolean => {
    for (let i = 0; i < n; i++) {
      const v = readVarint(b, p);
      if (!v) return false;
      p = v[1];
    }
    return true;
  };
  while (p < b.length) {
    const t = readVarint(b, p);
    if (!t) return false;
    p = t[1];
    switch (t[0]) {
      case 0x00: // PADDING
        while (p < b.length && b[p] === 0) p++;
        break;
      case 0x01: // PING
        break;
      case 0x02:
      case 0x03: {
        // ACK: largest, delay, range count, first range, ranges (gap, length), ECN counts for 0x03
        if (!skip(2)) return false;
        const count = readVarint(b, p);
        if (!count || count[0] > b.length) return false;
        p = count[1];
        if (!skip(1 + 2 * count[0] + (t[0] === 0x03 ? 3 : 0))) return false;
        break;
      }
      case 0x06: {
        const off = readVarint(b, p);
        if (!off) return false;
        const len = readVarint(b, off[1]);
        if (!len || len[1] + len[0] > b.length) return false;
        chunks.push({ offset: off[0], data: b.subarray(len[1], len[1] + len[0]) });
        p = len[1] + len[0];
        break;
      }
      case 0x1c: {
        // CONNECTION_CLOSE: error code, frame type, reason phrase
        if (!skip(2)) return false;
        const len = readVarint(b, p);
        if (!len || len[1] + len[0] > b.length) return false;
        p = len[1] + len[0];
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/**
 * The ClientHello of one QUIC connection, put together from the CRYPTO frames of its Initial
 * datagrams in whatever order they come (a post-quantum ClientHello spans two). Bounded: the
 * stream is read up to MAX_CLIENT_HELLO bytes, datagrams of another connection are ignored.
 */
export class QuicClientHello {
  #dcid: Buffer | undefined;
  readonly #chunks: CryptoChunk[] = [];
  #bytes = 0;

  /** Adds one datagram: the SNI once the ClientHello is whole, `more` while it is not. */
  push(datagram: Buffer): SniffResult {
    const r = readInitialDatagram(datagram);
    if (r.kind === 'fail') return this.#dcid ? more(0) : fail(r.reason);
    if (this.#dcid && !this.#dcid.equals(r.dcid)) return more(0);
    this.#dcid ??= r.dcid;
    for (const c of r.chunks) {
      if (c.offset + c.data.length > MAX_CLIENT_HELLO) return fail('client hello too large');
      if (c.data.length === 0) continue;
      this.#bytes += c.data.length;
      if (this.#bytes > 4 * MAX_CLIENT_HELLO) return fail('client hello too large');
      this.#chunks.push({ offset: c.offset, data: Buffer.from(c.data) });
    }
    const r2 = sniffClientHelloMessage(this.#contiguous());
    return r2.kind === 'more' ? more(0) : r2;
  }

  /** The CRYPTO stream from offset 0 up to the first gap. */
  #contiguous(): Buffer {
    const sorted = [...this.#chunks].sort((a, b) => a.offset - b.offset);
    let end = 0;
    for (const c of sorted) {
      if (c.offset > end) break;
      end = Math.max(end, c.offset + c.data.length);
    }
    const out = Buffer.alloc(end);
    for (const c of sorted) {
      if (c.offset >= end) break;
      c.data.copy(out, c.offset, 0, Math.min(c.data.length, end - c.offset));
    }
    return out;
  }
}

/** The SNI of a QUIC Initial datagram on its own (the whole ClientHello in it). */
export function sniffQuic(datagram: Buffer): SniffResult {
  return new QuicClientHello().push(datagram);
}
