/*
 * AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 128-bit tag, for the AIS envelope on hosts without mbedTLS
 * sources (docs/firmware.md says why it is written here). Portable C99: no allocation, any alignment, output may
 * equal input (in place). Static state: the tables filled at first use, and the last key's schedule and GHASH
 * table (the port passes the key each call; a stream under one key pays the setup once). Not reentrant.
 *
 * AES-128/192/256 (FIPS 197) with one 1 KB round table rotated per column (a ROR is free in an Arm operand);
 * GHASH with Shoup's 8-bit table (4 KB per key).
 * Table lookups depend on data: on a part with a data cache, keep the tables in TCM (no cache, fixed timing).
 */
#ifndef NATIVE_AES_GCM_H
#define NATIVE_AES_GCM_H

#include <stddef.h>
#include <stdint.h>

#define AES_GCM_IV_BYTES 12
#define AES_GCM_TAG_BYTES 16
#define AES_GCM_REASON_BYTES 64

enum {
	AES_GCM_OK = 0,
	AES_GCM_BAD_KEY = -1, /* the key is not 16, 24 or 32 bytes */
	AES_GCM_BAD_TAG = -2  /* open: the tag does not verify; the output is zeroed */
};

/* Encrypts `bytes` of `plaintext` into `out` and writes the tag; `aad` may be NULL when `aad_bytes` is 0. */
int aes_gcm_seal(const uint8_t* key, size_t key_bytes, const uint8_t iv[AES_GCM_IV_BYTES],
	const uint8_t* aad, size_t aad_bytes, const uint8_t* plaintext, size_t bytes,
	uint8_t* out, uint8_t tag[AES_GCM_TAG_BYTES]);

/* Verifies the tag over `aad` and `ciphertext` first (constant-time compare), then decrypts into `out`: nothing
   unauthenticated is written. AES_GCM_BAD_TAG leaves `out` zeroed. */
int aes_gcm_open(const uint8_t* key, size_t key_bytes, const uint8_t iv[AES_GCM_IV_BYTES],
	const uint8_t* aad, size_t aad_bytes, const uint8_t* ciphertext, size_t bytes,
	const uint8_t tag[AES_GCM_TAG_BYTES], uint8_t* out);

/* The natives' argument check (aes_gcm_check.c): 0 when the buffers' sizes suit seal or open (a 16, 24 or 32-byte
   key, a 12-byte IV, a 16-byte tag, an output as long as the input), else -1 with a one-line reason. */
int aes_gcm_check_sizes(size_t key_bytes, size_t iv_bytes, size_t tag_bytes, size_t bytes, size_t out_bytes,
	char reason[AES_GCM_REASON_BYTES]);

#endif
