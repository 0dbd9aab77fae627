// The C half of dsp.ts: native/dsp's echo canceller and wake-word detector behind two Native classes (XS in C,
// xsmc), with the XS hosts' checks (native/dsp_check.c). An instance's host data is its C state, calloc'd once
// outside the XS heap and freed by the destructor when the collector finds the instance. xsmcGetBuffer takes only
// byte views, so each frame comes as (ArrayBuffer, byte offset, samples) from the Int16Array's own fields, read in
// place: nothing is allocated per frame.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "xsmc.h"
#include "dsp_check.h"

// One destructor per kind: xsmcGetHostDataValidate tells a canceller from a detector by it.
void xs_ais_aec_destructor(void* data)
{
	free(data);
}

void xs_ais_kws_destructor(void* data)
{
	free(data);
}

#define MAX_FRAMES 3

// `frames` frames from argument 0 on, each (ArrayBuffer, byte offset, samples) of exactly `samples`; the last
// one written when `lastWritable`. Every number is converted before any buffer is read: a conversion may run
// JavaScript, which may move a buffer's data, and reading buffers allocates nothing.
static void frameArguments(xsMachine* the, int frames, int samples, xsBooleanValue lastWritable, const char* const names[], int16_t* pcm[])
{
	char reason[DSP_REASON_BYTES];
	xsIntegerValue offsets[MAX_FRAMES];
	int at;
	if (xsmcArgc < 3 * frames)
		xsTypeError("%s: expected %d arguments, got %d", names[0], 3 * frames, (int)xsmcArgc);
	for (at = 0; at < frames; at++) {
		offsets[at] = xsmcToInteger(xsArg(3 * at + 1));
		if (dsp_check_frame(xsmcToInteger(xsArg(3 * at + 2)), samples, names[at], reason))
			xsRangeError("%s", reason);
	}
	for (at = 0; at < frames; at++) {
		void* data;
		xsUnsignedValue bytes;
		if (lastWritable && at == frames - 1)
			xsmcGetBufferWritable(xsArg(3 * at), &data, &bytes);
		else
			xsmcGetBufferReadable(xsArg(3 * at), &data, &bytes);
		if (offsets[at] < 0 || (offsets[at] & 1) || (xsUnsignedValue)offsets[at] + 2 * (xsUnsignedValue)samples > bytes)
			xsRangeError("%s: %d samples at byte %d do not fit a buffer of %u bytes", names[at], samples, (int)offsets[at], (unsigned)bytes);
		pcm[at] = (int16_t*)((uint8_t*)data + offsets[at]);
	}
}

// new EchoCancellerState(frameSamples, taps)
void xs_ais_aec(xsMachine* the)
{
	char reason[DSP_REASON_BYTES];
	int frameSamples = xsmcToInteger(xsArg(0)), taps = xsmcToInteger(xsArg(1));
	aec_state* state = calloc(1, sizeof(aec_state));
	if (!state)
		xsRangeError("echo canceller: no memory for %d bytes of state", (int)sizeof(aec_state));
	if (dsp_aec_init_checked(state, frameSamples, taps, reason)) {
		free(state);
		xsRangeError("%s", reason);
	}
	xsmcSetHostData(xsThis, state);
}

// aecProcess.call(canceller, micBuffer, micOffset, micSamples, referenceBuffer, …, outBuffer, …); out may be mic.
void xs_ais_aec_process(xsMachine* the)
{
	static const char* const names[] = { "echo canceller microphone", "echo canceller reference", "echo canceller output" };
	aec_state* state = xsmcGetHostDataValidate(xsThis, xs_ais_aec_destructor);
	int16_t* pcm[3];
	frameArguments(the, 3, state->frame_samples, 1, names, pcm);
	aec_process(state, pcm[0], pcm[1], pcm[2]);
}

void xs_ais_aec_reset(xsMachine* the)
{
	aec_reset(xsmcGetHostDataValidate(xsThis, xs_ais_aec_destructor));
}

// new WakeWordState()
void xs_ais_kws(xsMachine* the)
{
	char reason[DSP_REASON_BYTES];
	kws_state* state = calloc(1, sizeof(kws_state));
	if (!state)
		xsRangeError("wake word: no memory for %d bytes of state", (int)sizeof(kws_state));
	if (dsp_kws_init_checked(state, reason)) {
		free(state);
		xsRangeError("%s", reason);
	}
	xsmcSetHostData(xsThis, state);
}

// kwsProcess.call(detector, frameBuffer, frameOffset, samples) -> the score (0..1)
void xs_ais_kws_process(xsMachine* the)
{
	static const char* const names[] = { "wake-word frame" };
	kws_state* state = xsmcGetHostDataValidate(xsThis, xs_ais_kws_destructor);
	int16_t* pcm[1];
	frameArguments(the, 1, KWS_FRAME, 0, names, pcm);
	xsmcSetNumber(xsResult, kws_process(state, pcm[0]));
}

void xs_ais_kws_reset(xsMachine* the)
{
	kws_reset(xsmcGetHostDataValidate(xsThis, xs_ais_kws_destructor));
}
