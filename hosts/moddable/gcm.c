// The C half of gcm.ts: native/aes_gcm.c in the callers' Uint8Arrays (XS in C, xsmc), nothing allocated.
// gcm.ts passes the port's checked arguments (src/crypto/native-aes-gcm.ts); these checks keep memory safe
// whatever JavaScript passes.
#include <stddef.h>
#include "xsmc.h"
#include "aes_gcm.h"

typedef struct {
	uint8_t* key;
	xsUnsignedValue keyBytes;
	uint8_t* iv;
	uint8_t* input;
	xsUnsignedValue bytes;
	uint8_t* out;
	uint8_t* tag;
} GcmArguments;

// Buffers are read after every argument is converted: nothing below allocates, so no pointer moves.
static void gcmArguments(xsMachine* the, int outAt, int tagAt, GcmArguments* args)
{
	xsUnsignedValue ivBytes, outBytes, tagBytes;
	char reason[AES_GCM_REASON_BYTES];
	if (xsmcArgc < 5)
		xsTypeError("AES-GCM expected 5 arguments, got %d", (int)xsmcArgc);
	xsmcGetBufferReadable(xsArg(0), (void**)&args->key, &args->keyBytes);
	xsmcGetBufferReadable(xsArg(1), (void**)&args->iv, &ivBytes);
	xsmcGetBufferReadable(xsArg(2), (void**)&args->input, &args->bytes);
	xsmcGetBufferWritable(xsArg(outAt), (void**)&args->out, &outBytes);
	if (tagAt == 4)
		xsmcGetBufferWritable(xsArg(tagAt), (void**)&args->tag, &tagBytes);
	else
		xsmcGetBufferReadable(xsArg(tagAt), (void**)&args->tag, &tagBytes);
	if (aes_gcm_check_sizes(args->keyBytes, ivBytes, tagBytes, args->bytes, outBytes, reason))
		xsRangeError("%s", reason);
}

// aesGcmSeal(key, iv, plaintext, out, tag)
void xs_ais_gcm_seal(xsMachine* the)
{
	GcmArguments args;
	gcmArguments(the, 3, 4, &args);
	aes_gcm_seal(args.key, args.keyBytes, args.iv, NULL, 0, args.input, args.bytes, args.out, args.tag);
}

// aesGcmOpen(key, iv, ciphertext, tag, out) -> false when the tag does not verify (out zeroed)
void xs_ais_gcm_open(xsMachine* the)
{
	GcmArguments args;
	gcmArguments(the, 4, 3, &args);
	xsmcSetBoolean(xsResult, aes_gcm_open(args.key, args.keyBytes, args.iv, NULL, 0, args.input, args.bytes, args.tag, args.out) == AES_GCM_OK);
}
