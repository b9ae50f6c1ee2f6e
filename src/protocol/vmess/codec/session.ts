import { randomBytes, randomInt } from 'node:crypto';
import type { Address } from '../../../core/address.js';
import { ChunkAead, type BodyCipher } from './chunk-aead.js';
import type { ChunkFraming } from './chunk.js';
import { kdf16, KDF_SALT } from './kdf.js';
import { COMMAND, OPTION, SECURITY, type RequestHeader } from './request.js';
import { responseKeys, type ResponseKeys } from './response.js';
import { ShakeStream } from './shake.js';

/** `cipher:` values we implement (mihomo's names). */
export const SECURITY_NAMES = ['auto', 'aes-128-gcm', 'chacha20-poly1305', 'none', 'zero'] as const;
/** One of {@link SECURITY_NAMES}. */
export type SecurityName = (typeof SECURITY_NAMES)[number];

/** mihomo's `auto`: AES-GCM where the CPU has AES instructions (as Go decides by GOARCH). */
export function autoSecurity(arch: string = process.arch): 'aes-128-gcm' | 'chacha20-poly1305' {
  return arch === 'x64' || arch === 'arm64' || arch === 's390x' ? 'aes-128-gcm' : 'chacha20-poly1305';
}

/** What a client chooses per connection. */
export interface SessionParams {
  readonly security: SecurityName;
  readonly command: (typeof COMMAND)[keyof typeof COMMAND];
  readonly destination?: Address;
  readonly globalPadding: boolean;
  readonly authenticatedLength: boolean;
}

/** Everything one VMess connection needs: the request to seal and both directions' framing. */
export interface VmessSession {
  readonly request: RequestHeader;
  /** undefined: the body is sent raw (security none/zero on a TCP or Mux stream) */
  readonly requestFraming?: ChunkFraming;
  readonly responseFraming?: ChunkFraming;
  readonly response: ResponseKeys;
}

const cipherOf = (security: number): BodyCipher | undefined =>
  security === SECURITY.AES_128_GCM ? 'aes-128-gcm' : security === SECURITY.CHACHA20_POLY1305 ? 'chacha20-poly1305' : undefined;

/**
 * The framing of one body direction from the request's option bits: `key`/`iv` are that
 * direction's body key and IV; the authenticated-length cipher always derives from the request
 * key/IV (`reqKey`/`reqIv`), in both directions, as v2ray does.
 */
export function framingFor(option: number, security: number, key: Buffer, iv: Buffer, reqKey: Buffer, reqIv: Buffer): ChunkFraming | undefined {
  if ((option & OPTION.CHUNK_STREAM) === 0) return undefined;
  const cipher = cipherOf(security);
  const padding = option & OPTION.GLOBAL_PADDING ? new ShakeStream(iv) : undefined;
  const lengthAead = option & OPTION.AUTHENTICATED_LENGTH ? new ChunkAead(cipher ?? 'aes-128-gcm', kdf16(reqKey, KDF_SALT.AUTH_LEN), reqIv) : undefined;
  // masking and padding share one SHAKE stream when both are on (v2ray's size parser is both)
  const mask = !lengthAead && option & OPTION.CHUNK_MASKING ? (padding ?? new ShakeStream(iv)) : undefined;
  return { aead: cipher ? new ChunkAead(cipher, key, iv) : undefined, mask, padding, lengthAead };
}

/**
 * A fresh client session, with mihomo's choice of options: AEAD ciphers get chunk stream and
 * length masking (plus global padding / authenticated length when configured); none and zero
 * both send security none, with no chunk stream except on UDP (which needs chunks as datagram
 * boundaries).
 */
export function newSession(p: SessionParams): VmessSession {
  const name = p.security === 'auto' ? autoSecurity() : p.security;
  let security: number;
  let option = 0;
  if (name === 'aes-128-gcm' || name === 'chacha20-poly1305') {
    security = name === 'aes-128-gcm' ? SECURITY.AES_128_GCM : SECURITY.CHACHA20_POLY1305;
    option = OPTION.CHUNK_STREAM | OPTION.CHUNK_MASKING;
    if (p.globalPadding) option |= OPTION.GLOBAL_PADDING;
    if (p.authenticatedLength) option |= OPTION.AUTHENTICATED_LENGTH;
  } else {
    security = SECURITY.NONE;
    if (p.command === COMMAND.UDP) option = OPTION.CHUNK_STREAM;
  }
  const rnd = randomBytes(32);
  const bodyIv = rnd.subarray(0, 16);
  const bodyKey = rnd.subarray(16, 32);
  const request: RequestHeader = {
    bodyIv,
    bodyKey,
    responseAuth: randomInt(256),
    option,
    security,
    command: p.command,
    destination: p.destination,
  };
  const response = responseKeys(bodyKey, bodyIv);
  return {
    request,
    requestFraming: framingFor(option, security, bodyKey, bodyIv, bodyKey, bodyIv),
    responseFraming: framingFor(option, security, response.key, response.iv, bodyKey, bodyIv),
    response,
  };
}
