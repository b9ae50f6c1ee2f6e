import { createCipheriv, createHmac } from 'node:crypto';

/** What differs between the QUIC versions whose Initial packets we can open. */
export interface QuicVersion {
  readonly salt: Buffer;
  /** the HKDF label prefix of the packet keys: `quic` (v1, draft-29) or `quicv2` (RFC 9369) */
  readonly label: string;
  /** the long-header packet type bits (0x30 of the first byte) that mean Initial */
  readonly initialType: number;
}

/** QUIC v1 (RFC 9001 5.2), draft-29 (still sent by old stacks) and v2 (RFC 9369 3.3.1). */
export const QUIC_VERSIONS: ReadonlyMap<number, QuicVersion> = new Map([
  [0x00000001, { salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), label: 'quic', initialType: 0 }],
  [0xff00001d, { salt: Buffer.from('afbfec289993d24c9e9786f19c6111e04390a899', 'hex'), label: 'quic', initialType: 0 }],
  [0x6b3343cf, { salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'), label: 'quicv2', initialType: 1 }],
]);

/** The AEAD key, IV and header-protection key of one side's Initial packets. */
export interface InitialKeys {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly hp: Buffer;
}

/** HKDF-Expand-Label of TLS 1.3 (RFC 8446 7.1) with SHA-256, empty context; `length` ≤ 32. */
export function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // context length
  // HKDF-Expand: one block T(1) = HMAC(PRK, info || 0x01) covers up to 32 bytes
  return createHmac('sha256', secret).update(info).update(Buffer.of(1)).digest().subarray(0, length);
}

/**
 * The Initial keys for a client's first Destination Connection ID (RFC 9001 5.2): the initial
 * secret is HKDF-Extract(salt, dcid), then `client in` / `server in`, then the packet keys.
 */
export function initialKeys(version: QuicVersion, dcid: Buffer, side: 'client' | 'server' = 'client'): InitialKeys {
  const initial = createHmac('sha256', version.salt).update(dcid).digest(); // HKDF-Extract
  const secret = hkdfExpandLabel(initial, `${side} in`, 32);
  return {
    key: hkdfExpandLabel(secret, `${version.label} key`, 16),
    iv: hkdfExpandLabel(secret, `${version.label} iv`, 12),
    hp: hkdfExpandLabel(secret, `${version.label} hp`, 16),
  };
}

/** The 5-byte header-protection mask: AES-128-ECB of the 16-byte sample (RFC 9001 5.4.3). */
export function headerMask(hp: Buffer, sample: Buffer): Buffer {
  const c = createCipheriv('aes-128-ecb', hp, null);
  c.setAutoPadding(false);
  return c.update(sample).subarray(0, 5);
}

/** The AEAD nonce: the IV XORed with the packet number, right-aligned (RFC 9001 5.3). */
export function packetNonce(iv: Buffer, packetNumber: number): Buffer {
  const nonce = Buffer.from(iv);
  let pn = packetNumber;
  for (let i = nonce.length - 1; i >= nonce.length - 6 && pn > 0; i--) {
    nonce[i] ^= pn & 0xff;
    pn = Math.floor(pn / 256);
  }
  return nonce;
}
