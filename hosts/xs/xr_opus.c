/*
 * libopus for the opus port on the XS hosts, over the sources @discordjs/opus ships (native/native.mk builds them
 * from node_modules, fixed point on both hosts). src/audio/native-opus.ts wraps these:
 *   natives.opusEncoderCreate(sampleRate, application, bitsPerSecond) -> encoder (mono, hard CBR)
 *   natives.opusEncode(encoder, pcm Int16Array, out Uint8Array) -> packet bytes
 *   natives.opusDecoderCreate(sampleRate) -> decoder (mono)
 *   natives.opusDecode(decoder, packet Uint8Array, pcm Int16Array) -> samples (an empty packet: concealment)
 *   natives.opusEncoderClose(encoder), natives.opusDecoderClose(decoder); the collector frees one nobody closed.
 * Frames are read and written in the callers' typed arrays: nothing is allocated per frame. The codec states
 * come from libopus's own malloc, outside the XS heap (opus_encoder_get_size: the figures print them).
 */
#include "xs.h"
#include "ais_opus.h"
#include "xr_natives.h"

static void xrOpusEncoderFree(void* data)
{
	if (data)
		opus_encoder_destroy(data);
}

static void xrOpusDecoderFree(void* data)
{
	if (data)
		opus_decoder_destroy(data);
}

static void xrOpusCheck(xsMachine* the, int status, const char* what)
{
	if (status < 0)
		xsRangeError("%s: %s", what, opus_strerror(status));
}

static void xr_opusEncoderCreate(xsMachine* the)
{
	char reason[AIS_OPUS_REASON_BYTES];
	opus_int32 rate = xsToInteger(xsArg(0));
	opus_int32 bitrate = xsToInteger(xsArg(2));
	OpusEncoder* encoder = ais_opus_encoder_create(rate, xsToString(xsArg(1)), bitrate, reason); /* the string last: a later conversion could move it */
	if (!encoder)
		xsRangeError("%s", reason);
	xsResult = xsNewHostObject(xrOpusEncoderFree);
	xsSetHostData(xsResult, encoder);
}

static void xr_opusEncode(xsMachine* the)
{
	OpusEncoder* encoder = xsGetHostDataValidate(xsArg(0), xrOpusEncoderFree);
	size_t samples, room;
	opus_int16* pcm;
	unsigned char* out;
	int bytes;
	if (!encoder)
		xsRangeError("encoder is closed");
	pcm = xrTypedArrayArg(the, 1, 2, &samples, "Opus PCM");
	out = xrTypedArrayArg(the, 2, 1, &room, "Opus packet buffer");
	bytes = opus_encode(encoder, pcm, (int)samples, out, (opus_int32)room);
	xrOpusCheck(the, bytes, "Opus encode");
	xsResult = xsInteger(bytes);
}

static void xr_opusDecoderCreate(xsMachine* the)
{
	int status;
	OpusDecoder* decoder = opus_decoder_create(xsToInteger(xsArg(0)), 1, &status);
	xrOpusCheck(the, status, "Opus decoder");
	xsResult = xsNewHostObject(xrOpusDecoderFree);
	xsSetHostData(xsResult, decoder);
}

static void xr_opusDecode(xsMachine* the)
{
	OpusDecoder* decoder = xsGetHostDataValidate(xsArg(0), xrOpusDecoderFree);
	size_t bytes, room;
	unsigned char* packet;
	opus_int16* pcm;
	int samples;
	if (!decoder)
		xsRangeError("decoder is closed");
	packet = xrTypedArrayArg(the, 1, 1, &bytes, "Opus packet");
	pcm = xrTypedArrayArg(the, 2, 2, &room, "Opus PCM");
	samples = opus_decode(decoder, bytes ? packet : NULL, (opus_int32)bytes, pcm, (int)room, 0);
	xrOpusCheck(the, samples, "Opus decode");
	xsResult = xsInteger(samples);
}

static void xr_opusEncoderClose(xsMachine* the)
{
	OpusEncoder* encoder = xsGetHostDataValidate(xsArg(0), xrOpusEncoderFree);
	if (encoder) {
		opus_encoder_destroy(encoder);
		xsSetHostData(xsArg(0), NULL);
	}
}

static void xr_opusDecoderClose(xsMachine* the)
{
	OpusDecoder* decoder = xsGetHostDataValidate(xsArg(0), xrOpusDecoderFree);
	if (decoder) {
		opus_decoder_destroy(decoder);
		xsSetHostData(xsArg(0), NULL);
	}
}

void xrInstallOpusNatives(void* machine)
{
	xsMachine* the = machine;
	xrDefineNative(the, "opusEncoderCreate", xr_opusEncoderCreate, 3);
	xrDefineNative(the, "opusEncode", xr_opusEncode, 3);
	xrDefineNative(the, "opusDecoderCreate", xr_opusDecoderCreate, 1);
	xrDefineNative(the, "opusDecode", xr_opusDecode, 3);
	xrDefineNative(the, "opusEncoderClose", xr_opusEncoderClose, 1);
	xrDefineNative(the, "opusDecoderClose", xr_opusDecoderClose, 1);
	xsSet(xsVar(0), xsID("opusEncoderBytes"), xsInteger(opus_encoder_get_size(1)));
	xsSet(xsVar(0), xsID("opusDecoderBytes"), xsInteger(opus_decoder_get_size(1)));
}
