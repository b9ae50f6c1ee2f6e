import { keystreamAvailable } from '../../../runtime/aead.js';

/** The AEADs Shadowsocks uses; `xchacha20-poly1305` reduces to chacha20-poly1305 (xchacha.ts). */
export type AeadAlgorithm = 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'xchacha20-poly1305';

/** The families of Shadowsocks methods, each with its own framing. */
export type MethodKind = 'aead' | 'aead2022' | 'stream' | 'none';

/** One `cipher:` value and everything the codecs need to know about it. */
export interface MethodSpec {
  readonly name: string;
  readonly kind: MethodKind;
  /** master key (or PSK) bytes */
  readonly keySize: number;
  /** salt (AEAD) or IV (stream) bytes sent first on every stream and packet */
  readonly saltSize: number;
  /** the AEAD of aead / aead2022 methods */
  readonly aead?: AeadAlgorithm;
  /** node:crypto name of a stream method's cipher */
  readonly stream?: string;
}

const aead = (name: string, keySize: number, alg: AeadAlgorithm): MethodSpec => ({ name, kind: 'aead', keySize, saltSize: keySize, aead: alg });
const aead2022 = (name: string, keySize: number, alg: AeadAlgorithm): MethodSpec => ({ name, kind: 'aead2022', keySize, saltSize: keySize, aead: alg });
const stream = (name: string, keySize: number, ivSize: number, alg: string): MethodSpec => ({ name, kind: 'stream', keySize, saltSize: ivSize, stream: alg });

// Legacy stream methods, mapped to node:crypto ciphers. chacha20-ietf / chacha20 / xchacha20
// all run on 'chacha20' (node's, or noble's where node:crypto lacks it: runtime/aead.ts) with the IV
// laid out per variant (see stream-cipher.ts);
// rc4-md5 needs 'rc4', which OpenSSL 3 keeps in its legacy provider (usually not loaded).
const STREAMS: readonly MethodSpec[] = [
  stream('aes-128-cfb', 16, 16, 'aes-128-cfb'),
  stream('aes-192-cfb', 24, 16, 'aes-192-cfb'),
  stream('aes-256-cfb', 32, 16, 'aes-256-cfb'),
  stream('aes-128-ctr', 16, 16, 'aes-128-ctr'),
  stream('aes-192-ctr', 24, 16, 'aes-192-ctr'),
  stream('aes-256-ctr', 32, 16, 'aes-256-ctr'),
  stream('chacha20-ietf', 32, 12, 'chacha20'),
  stream('chacha20', 32, 8, 'chacha20'),
  stream('xchacha20', 32, 24, 'chacha20'),
  stream('rc4-md5', 16, 16, 'rc4'),
];

const ALL: readonly MethodSpec[] = [
  aead('aes-128-gcm', 16, 'aes-128-gcm'),
  aead('aes-192-gcm', 24, 'aes-192-gcm'),
  aead('aes-256-gcm', 32, 'aes-256-gcm'),
  aead('chacha20-ietf-poly1305', 32, 'chacha20-poly1305'),
  aead('xchacha20-ietf-poly1305', 32, 'xchacha20-poly1305'),
  aead2022('2022-blake3-aes-128-gcm', 16, 'aes-128-gcm'),
  aead2022('2022-blake3-aes-256-gcm', 32, 'aes-256-gcm'),
  aead2022('2022-blake3-chacha20-poly1305', 32, 'chacha20-poly1305'),
  { name: 'none', kind: 'none', keySize: 0, saltSize: 0 },
  { name: 'plain', kind: 'none', keySize: 0, saltSize: 0 },
  ...STREAMS,
];

/** Every method name we know, available here or not (docs, error messages). */
export const METHOD_NAMES: readonly string[] = ALL.map((m) => m.name);

/**
 * The spec of a `cipher:` value, or a reason it cannot be used: unknown to us, or a stream
 * cipher this Node's OpenSSL does not offer.
 */
export function findMethod(name: string): MethodSpec | { readonly unsupported: string } {
  const spec = ALL.find((m) => m.name === name.toLowerCase());
  if (!spec) return { unsupported: `unsupported cipher ${name}` };
  if (spec.stream !== undefined && !keystreamAvailable(spec.stream)) {
    return { unsupported: `unsupported cipher ${name}: this runtime's crypto has no ${spec.stream}` };
  }
  return spec;
}
