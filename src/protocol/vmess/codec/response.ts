import { createHash } from 'node:crypto';
import { ProxyError } from '../../../core/errors.js';
import { gcmOpen, gcmSeal } from './header.js';
import { kdf, kdf16, KDF_SALT } from './kdf.js';

/** The response direction's body key and IV: SHA-256 of the request's, first 16 bytes (AEAD). */
export interface ResponseKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
}

/** Derives the response body key/IV from the request body key/IV (VMess AEAD). */
export function responseKeys(bodyKey: Buffer, bodyIv: Buffer): ResponseKeys {
  return {
    key: createHash('sha256').update(bodyKey).digest().subarray(0, 16),
    iv: createHash('sha256').update(bodyIv).digest().subarray(0, 16),
  };
}

/** The plaintext response header: V echoed, option, and an optional command (ignored by us). */
export interface ResponseHeader {
  readonly responseAuth: number;
  readonly option: number;
  readonly command: number;
  readonly commandData: Buffer;
}

const lenKey = (r: ResponseKeys): Buffer => kdf16(r.key, KDF_SALT.RESP_LEN_KEY);
const lenIv = (r: ResponseKeys): Buffer => kdf(r.iv, KDF_SALT.RESP_LEN_IV).subarray(0, 12);
const bodyKey = (r: ResponseKeys): Buffer => kdf16(r.key, KDF_SALT.RESP_KEY);
const bodyIv = (r: ResponseKeys): Buffer => kdf(r.iv, KDF_SALT.RESP_IV).subarray(0, 12);

/** Seals a response header (server side, and tests): `GCM(len, 2+16) ‖ GCM(header, n+16)`. */
export function sealResponseHeader(r: ResponseKeys, h: ResponseHeader): Buffer {
  const plain = Buffer.allocUnsafe(4 + h.commandData.length);
  plain[0] = h.responseAuth;
  plain[1] = h.option;
  plain[2] = h.command;
  plain[3] = h.commandData.length;
  h.commandData.copy(plain, 4);
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(plain.length, 0);
  const out = Buffer.allocUnsafe(18 + plain.length + 16);
  gcmSeal(lenKey(r), lenIv(r), len, Buffer.alloc(0), out, 0);
  gcmSeal(bodyKey(r), bodyIv(r), plain, Buffer.alloc(0), out, 18);
  return out;
}

/**
 * Decodes the AEAD response header at the start of `data`: undefined while more bytes are
 * needed, else the header and its sealed length. A length or header that does not authenticate,
 * or a body shorter than 4 bytes, is a PROTOCOL error (a wrong key, or not a VMess server).
 */
export function openResponseHeader(r: ResponseKeys, data: Buffer): { header: ResponseHeader; length: number } | undefined {
  if (data.length < 18) return undefined;
  const len = gcmOpen(lenKey(r), lenIv(r), data.subarray(0, 18), undefined);
  if (!len) throw new ProxyError('PROTOCOL', 'VMess response header length does not authenticate');
  const n = len.readUInt16BE(0);
  if (n < 4) throw new ProxyError('PROTOCOL', `VMess response header of ${n} bytes`);
  if (data.length < 18 + n + 16) return undefined;
  const plain = gcmOpen(bodyKey(r), bodyIv(r), data.subarray(18, 18 + n + 16), undefined);
  if (!plain) throw new ProxyError('PROTOCOL', 'VMess response header does not authenticate');
  const cmdLen = plain[3];
  if (4 + cmdLen > n) throw new ProxyError('PROTOCOL', 'VMess response command overruns the header');
  return {
    header: { responseAuth: plain[0], option: plain[1], command: plain[2], commandData: plain.subarray(4, 4 + cmdLen) },
    length: 18 + n + 16,
  };
}
