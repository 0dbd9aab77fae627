// The C half of opus-codec.ts: libopus (fixed point, built by the ais_opus_*.c wrappers from node_modules) behind
// two Native classes (XS in C, xsmc). An instance's host data is its codec state, made by libopus's malloc
// outside the XS heap and freed by close() or by the destructor when the collector finds it. Frames are read and
// written in the callers' buffers: nothing is allocated per frame. xsmcGetBuffer takes only byte views, so PCM
// comes as (ArrayBuffer, byte offset, samples) from the Int16Array's own fields.
#include <stddef.h>
#include <stdint.h>
#include "xsmc.h"
#include "ais_opus.h"

void xs_ais_opus_encoder_destructor(void* data)
{
	if (data)
		opus_encoder_destroy(data);
}

void xs_ais_opus_decoder_destructor(void* data)
{
	if (data)
		opus_decoder_destroy(data);
}

static void opusCheck(xsMachine* the, int status, const char* what)
{
	if (status < 0)
		xsRangeError("%s: %s", what, opus_strerror(status));
}

// Arguments `at`..`at + 2`: an ArrayBuffer, a byte offset and a count of 16-bit samples inside it.
static opus_int16* pcmArgument(xsMachine* the, int at, int* samples, xsBooleanValue writable)
{
	void* data;
	xsUnsignedValue bytes;
	xsIntegerValue offset = xsmcToInteger(xsArg(at + 1));
	xsIntegerValue count = xsmcToInteger(xsArg(at + 2));
	if (writable)
		xsmcGetBufferWritable(xsArg(at), &data, &bytes);
	else
		xsmcGetBufferReadable(xsArg(at), &data, &bytes);
	if (offset < 0 || count < 0 || (offset & 1) || (xsUnsignedValue)offset + 2 * (xsUnsignedValue)count > bytes)
		xsRangeError("Opus PCM: %d samples at byte %d do not fit a buffer of %u bytes", (int)count, (int)offset, (unsigned)bytes);
	*samples = (int)count;
	return (opus_int16*)((uint8_t*)data + offset);
}

// new OpusEncoderState(sampleRate, application, bitsPerSecond): mono, hard CBR.
void xs_ais_opus_encoder(xsMachine* the)
{
	char reason[AIS_OPUS_REASON_BYTES];
	opus_int32 rate = xsmcToInteger(xsArg(0));
	opus_int32 bitrate = xsmcToInteger(xsArg(2));
	OpusEncoder* encoder = ais_opus_encoder_create(rate, xsmcToString(xsArg(1)), bitrate, reason); // the string last: a later conversion could move it
	if (!encoder)
		xsRangeError("%s", reason);
	xsmcSetHostData(xsThis, encoder);
}

// encoder.encode(pcmBuffer, byteOffset, samples, out Uint8Array) -> packet bytes
void xs_ais_opus_encode(xsMachine* the)
{
	OpusEncoder* encoder = xsmcGetHostDataValidate(xsThis, xs_ais_opus_encoder_destructor);
	int samples, bytes;
	opus_int16* pcm;
	void* out;
	xsUnsignedValue room;
	if (!encoder)
		xsRangeError("encoder is closed");
	pcm = pcmArgument(the, 0, &samples, 0);
	xsmcGetBufferWritable(xsArg(3), &out, &room);
	bytes = opus_encode(encoder, pcm, samples, out, (opus_int32)room);
	opusCheck(the, bytes, "Opus encode");
	xsmcSetInteger(xsResult, bytes);
}

void xs_ais_opus_encoder_close(xsMachine* the)
{
	OpusEncoder* encoder = xsmcGetHostDataValidate(xsThis, xs_ais_opus_encoder_destructor);
	if (encoder) {
		opus_encoder_destroy(encoder);
		xsmcSetHostData(xsThis, NULL);
	}
}

// new OpusDecoderState(sampleRate): mono.
void xs_ais_opus_decoder(xsMachine* the)
{
	int status;
	OpusDecoder* decoder = opus_decoder_create(xsmcToInteger(xsArg(0)), 1, &status);
	opusCheck(the, status, "Opus decoder");
	xsmcSetHostData(xsThis, decoder);
}

// decoder.decode(packet Uint8Array, pcmBuffer, byteOffset, samples) -> samples written (an empty packet: concealment)
void xs_ais_opus_decode(xsMachine* the)
{
	OpusDecoder* decoder = xsmcGetHostDataValidate(xsThis, xs_ais_opus_decoder_destructor);
	void* packet;
	xsUnsignedValue bytes;
	int room, samples;
	opus_int16* pcm;
	if (!decoder)
		xsRangeError("decoder is closed");
	pcm = pcmArgument(the, 1, &room, 1);
	xsmcGetBufferReadable(xsArg(0), &packet, &bytes);
	samples = opus_decode(decoder, bytes ? packet : NULL, (opus_int32)bytes, pcm, room, 0);
	opusCheck(the, samples, "Opus decode");
	xsmcSetInteger(xsResult, samples);
}

void xs_ais_opus_decoder_close(xsMachine* the)
{
	OpusDecoder* decoder = xsmcGetHostDataValidate(xsThis, xs_ais_opus_decoder_destructor);
	if (decoder) {
		opus_decoder_destroy(decoder);
		xsmcSetHostData(xsThis, NULL);
	}
}
