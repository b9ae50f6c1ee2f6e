import { fail, hostOrFail, more, type SniffResult } from './result.js';

/** TLSPlaintext.length never exceeds 2^14 (RFC 8446 5.1). */
const MAX_RECORD = 16384;
/** The largest ClientHello we read: far above any real one (post-quantum key shares are ~1.8 KB). */
export const MAX_CLIENT_HELLO = 32 * 1024;
/** The most bytes {@link sniffTls} ever asks for: a ClientHello over several records, with their headers. */
export const TLS_MAX_PEEK = MAX_CLIENT_HELLO + 5 * 64;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXT = 0x0000;
const HOST_NAME = 0x00;

/**
 * The SNI of a TLS ClientHello at the start of a TCP stream. The ClientHello may span several
 * TLS records, and `buf` may end anywhere: then the answer is `more` with the byte count to
 * wait for (the end of the current record, or the next record's header).
 */
export function sniffTls(buf: Buffer): SniffResult {
  let off = 0;
  const fragments: Buffer[] = [];
  let have = 0;
  let helloEnd = -1; // handshake bytes up to the end of the ClientHello, once its header is read
  for (;;) {
    if (buf.length < off + 5) {
      if (buf.length > off && buf[off] !== HANDSHAKE) return fail('not TLS header');
      return more(off + 5);
    }
    if (buf[off] !== HANDSHAKE || buf[off + 1] !== 3) return fail('not TLS header');
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > MAX_RECORD) return fail('not TLS header');
    if (buf.length < off + 5 + len) return more(off + 5 + len);
    fragments.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (helloEnd < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO) return fail('not client hello');
      helloEnd = 4 + head.readUIntBE(1, 3);
      if (helloEnd > MAX_CLIENT_HELLO) return fail('client hello too large');
    }
    if (helloEnd >= 0 && have >= helloEnd) {
      const hs = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
      return clientHelloServerName(hs.subarray(4, helloEnd));
    }
    if (off >= TLS_MAX_PEEK) return fail('client hello too large');
  }
}

/**
 * The SNI in a handshake stream that starts with a ClientHello (its 4-byte header first): what
 * QUIC carries in its CRYPTO frames. `more` when the stream so far is shorter than the message.
 */
export function sniffClientHelloMessage(hs: Buffer): SniffResult {
  if (hs.length < 4) return hs.length > 0 && hs[0] !== CLIENT_HELLO ? fail('not client hello') : more(4);
  if (hs[0] !== CLIENT_HELLO) return fail('not client hello');
  const end = 4 + hs.readUIntBE(1, 3);
  if (end > MAX_CLIENT_HELLO) return fail('client hello too large');
  if (hs.length < end) return more(end);
  return clientHelloServerName(hs.subarray(4, end));
}

/** The host_name of the server_name extension in a ClientHello body (after the handshake header). */
export function clientHelloServerName(body: Buffer): SniffResult {
  // legacy_version (2), random (32)
  let p = 34;
  if (body.length < p + 1) return fail('not client hello');
  const sessionIdLen = body[p];
  if (sessionIdLen > 32) return fail('not client hello');
  p += 1 + sessionIdLen;
  if (body.length < p + 2) return fail('not client hello');
  const suitesLen = body.readUInt16BE(p);
  if (suitesLen % 2 === 1) return fail('not client hello');
  p += 2 + suitesLen;
  if (body.length < p + 1) return fail('not client hello');
  p += 1 + body[p]; // compression methods
  if (body.length < p + 2) return fail('no server name');
  const extEnd = p + 2 + body.readUInt16BE(p);
  p += 2;
  if (extEnd !== body.length) return fail('not client hello');
  while (p < extEnd) {
    if (extEnd < p + 4) return fail('not client hello');
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (extEnd < p + len) return fail('not client hello');
    if (type === SERVER_NAME_EXT) return serverName(body.subarray(p, p + len));
    p += len;
  }
  return fail('no server name');
}

function serverName(ext: Buffer): SniffResult {
  if (ext.length < 2 || ext.readUInt16BE(0) !== ext.length - 2) return fail('not client hello');
  let p = 2;
  while (p < ext.length) {
    if (ext.length < p + 3) return fail('not client hello');
    const type = ext[p];
    const len = ext.readUInt16BE(p + 1);
    p += 3;
    if (ext.length < p + len) return fail('not client hello');
    if (type === HOST_NAME) return hostOrFail(ext.toString('latin1', p, p + len));
    p += len;
  }
  return fail('no server name');
}
