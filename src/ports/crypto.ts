// Crypto port. Random bytes must come from the host (XS has no entropy source of its own); the other
// primitives have portable JavaScript defaults that hosts may replace with native code (mbedTLS, an AES engine).

export interface Crypto {
  /** Fills `out` with cryptographically secure random bytes. */
  randomBytes(out: Uint8Array): void;
  /** X25519 public key (32 bytes, RFC 7748 little-endian) of a 32-byte private key. */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** X25519 shared secret of our private key and the peer's public key. */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** HKDF-SHA256 (RFC 5869); an empty salt means 32 zero bytes. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-GCM with a 12-byte IV, no AAD. Writes ciphertext into `out` (same length as plaintext) and the 16-byte tag into `tag`. */
  aesGcmSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  /** Decrypts into `out`; returns false (and leaves `out` unspecified) when the tag does not verify. */
  aesGcmOpen(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
}
