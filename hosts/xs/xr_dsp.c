/*
 * native/dsp on the XS hosts: the echo canceller and the wake-word detector, which src/audio/native-dsp.ts wraps
 * as the front end's hooks:
 *   natives.aecCreate(frameSamples, taps) -> canceller     natives.aecProcess(canceller, mic, reference, out)
 *   natives.aecReset(canceller)
 *   natives.kwsCreate() -> detector                         natives.kwsProcess(detector, frame) -> score (0..1)
 *   natives.kwsReset(detector)
 *   natives.aecStateBytes, natives.kwsStateBytes: the C state each takes (c_malloc'd once at create, outside the
 *   XS heap; the collector frees it).
 * Frames are Int16Arrays read and written in place: nothing is allocated per frame.
 */
#include "xs.h"
#include "dsp_check.h"
#include "xr_natives.h"

/* One destructor per kind: xsGetHostDataValidate tells a canceller from a detector by it. */
static void xrAecFree(void* data)
{
	if (data)
		c_free(data);
}

static void xrKwsFree(void* data)
{
	if (data)
		c_free(data);
}

static void* xrDspState(xsMachine* the, size_t bytes, const char* name)
{
	void* state = c_calloc(1, bytes);
	if (!state)
		xsRangeError("%s: no memory for %d bytes of state", name, (int)bytes);
	return state;
}

/* The initialised state as the result, owned by a host object of its kind; a refused init frees it and throws. */
static void xrDspResult(xsMachine* the, void* state, int refused, const char* reason, xsDestructor destructor)
{
	if (refused) {
		c_free(state);
		xsRangeError("%s", reason);
	}
	xsResult = xsNewHostObject(destructor);
	xsSetHostData(xsResult, state);
}

/* The frame in argument `index`: an Int16Array of exactly `samples`. */
static int16_t* xrDspFrame(xsMachine* the, int index, int samples, const char* name)
{
	size_t count;
	char reason[DSP_REASON_BYTES];
	int16_t* frame = xrTypedArrayArg(the, index, 2, &count, name);
	if (dsp_check_frame((long)count, samples, name, reason))
		xsRangeError("%s", reason);
	return frame;
}

static void xr_aecCreate(xsMachine* the)
{
	int frameSamples = xsToInteger(xsArg(0)), taps = xsToInteger(xsArg(1));
	char reason[DSP_REASON_BYTES];
	aec_state* state = xrDspState(the, sizeof(aec_state), "echo canceller");
	xrDspResult(the, state, dsp_aec_init_checked(state, frameSamples, taps, reason), reason, xrAecFree);
}

/* Reading the arguments allocates nothing, so the frames' pointers stay valid through aec_process. */
static void xr_aecProcess(xsMachine* the)
{
	aec_state* state = xsGetHostDataValidate(xsArg(0), xrAecFree);
	int n = state->frame_samples;
	int16_t* mic = xrDspFrame(the, 1, n, "echo canceller microphone");
	int16_t* reference = xrDspFrame(the, 2, n, "echo canceller reference");
	int16_t* out = xrDspFrame(the, 3, n, "echo canceller output");
	aec_process(state, mic, reference, out);
}

static void xr_aecReset(xsMachine* the)
{
	aec_reset(xsGetHostDataValidate(xsArg(0), xrAecFree));
}

static void xr_kwsCreate(xsMachine* the)
{
	char reason[DSP_REASON_BYTES];
	kws_state* state = xrDspState(the, sizeof(kws_state), "wake word");
	xrDspResult(the, state, dsp_kws_init_checked(state, reason), reason, xrKwsFree);
}

static void xr_kwsProcess(xsMachine* the)
{
	kws_state* state = xsGetHostDataValidate(xsArg(0), xrKwsFree);
	xsResult = xsNumber(kws_process(state, xrDspFrame(the, 1, KWS_FRAME, "wake-word frame")));
}

static void xr_kwsReset(xsMachine* the)
{
	kws_reset(xsGetHostDataValidate(xsArg(0), xrKwsFree));
}

void xrInstallDspNatives(void* machine)
{
	xsMachine* the = machine;
	xrDefineNative(the, "aecCreate", xr_aecCreate, 2);
	xrDefineNative(the, "aecProcess", xr_aecProcess, 4);
	xrDefineNative(the, "aecReset", xr_aecReset, 1);
	xrDefineNative(the, "kwsCreate", xr_kwsCreate, 0);
	xrDefineNative(the, "kwsProcess", xr_kwsProcess, 2);
	xrDefineNative(the, "kwsReset", xr_kwsReset, 1);
	xsSet(xsVar(0), xsID("aecStateBytes"), xsInteger(sizeof(aec_state)));
	xsSet(xsVar(0), xsID("kwsStateBytes"), xsInteger(sizeof(kws_state)));
}
