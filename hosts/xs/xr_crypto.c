/*
 * AES-GCM for the crypto port on the XS hosts: natives.aesGcmSeal(key, iv, plaintext, out, tag) and
 * natives.aesGcmOpen(key, iv, ciphertext, tag, out) -> boolean, over native/aes_gcm.c, in the callers'
 * buffers (no allocation). hosts/xs/aes-gcm.js checks the arguments with the port's messages first; these
 * checks keep memory safe whatever JavaScript passes.
 */
#include "xs.h"
#include "aes_gcm.h"
#include "xr_natives.h"

typedef struct {
	uint8_t* key;
	size_t keyBytes;
	uint8_t* iv;
	uint8_t* input;
	size_t bytes;
	uint8_t* out;
	uint8_t* tag;
} xrGcmArgs;

/* The argument positions of input, out and tag differ between seal and open. */
static void xrGcmArguments(xsMachine* the, int inputAt, int outAt, int tagAt, xrGcmArgs* args)
{
	size_t ivBytes, outBytes, tagBytes;
	char reason[AES_GCM_REASON_BYTES];
	args->key = xrTypedArrayArg(the, 0, 1, &args->keyBytes, "AES key");
	args->iv = xrTypedArrayArg(the, 1, 1, &ivBytes, "AES-GCM IV");
	args->input = xrTypedArrayArg(the, inputAt, 1, &args->bytes, "AES-GCM input");
	args->out = xrTypedArrayArg(the, outAt, 1, &outBytes, "AES-GCM output");
	args->tag = xrTypedArrayArg(the, tagAt, 1, &tagBytes, "AES-GCM tag");
	if (aes_gcm_check_sizes(args->keyBytes, ivBytes, tagBytes, args->bytes, outBytes, reason))
		xsRangeError("%s", reason);
}

static void xr_aesGcmSeal(xsMachine* the)
{
	xrGcmArgs args;
	xrGcmArguments(the, 2, 3, 4, &args);
	aes_gcm_seal(args.key, args.keyBytes, args.iv, NULL, 0, args.input, args.bytes, args.out, args.tag);
}

static void xr_aesGcmOpen(xsMachine* the)
{
	xrGcmArgs args;
	xrGcmArguments(the, 2, 4, 3, &args);
	xsResult = xsBoolean(aes_gcm_open(args.key, args.keyBytes, args.iv, NULL, 0, args.input, args.bytes, args.tag, args.out) == AES_GCM_OK);
}

void xrInstallCryptoNatives(void* machine)
{
	xsMachine* the = machine;
	xrDefineNative(the, "aesGcmSeal", xr_aesGcmSeal, 5);
	xrDefineNative(the, "aesGcmOpen", xr_aesGcmOpen, 5);
}
