/**
 * The cipher shapes protocols use, whichever runtime library provides them (src/runtime/).
 * node:crypto's CipherGCM / DecipherGCM / Cipher satisfy them as they are, so on a runtime
 * that has the cipher the protocol code holds node's own object, with no wrapper.
 */

/** One AEAD message being sealed: AAD first (optional), then update() pieces, final(), the tag. */
export interface AeadSealer {
  setAAD(aad: Buffer): unknown;
  update(data: Buffer): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}

/**
 * One AEAD message being opened: update() returns plaintext before the tag is checked, so a
 * caller releases nothing until final() returned (it throws when the message does not authenticate).
 */
export interface AeadOpener {
  setAAD(aad: Buffer): unknown;
  setAuthTag(tag: Buffer): unknown;
  update(data: Buffer): Buffer;
  final(): Buffer;
}

/** A keystream cipher (encrypting and decrypting are the same XOR): any piece sizes, in order. */
export interface KeystreamCipher {
  update(data: Buffer): Buffer;
}
