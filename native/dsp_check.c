/* The checks of native/dsp's bindings (dsp_check.h). Outside native/dsp: that folder builds freestanding to
 * WebAssembly, and these need snprintf. */
#include <stdio.h>
#include "dsp_check.h"

int dsp_aec_init_checked(aec_state *st, int frame_samples, int taps, char reason[DSP_REASON_BYTES])
{
	if (aec_init(st, frame_samples, taps) == 0)
		return 0;
	snprintf(reason, DSP_REASON_BYTES, "echo canceller: frameSamples %d must be a multiple of %d, taps %d a multiple of %d up to %d",
		frame_samples, AEC_BLOCK, taps, AEC_BLOCK, AEC_BLOCK * AEC_MAX_PARTITIONS);
	return -1;
}

int dsp_kws_init_checked(kws_state *st, char reason[DSP_REASON_BYTES])
{
	if (kws_init(st) == 0)
		return 0;
	snprintf(reason, DSP_REASON_BYTES, "wake word: init failed");
	return -1;
}

int dsp_check_frame(long samples, int expected, const char *name, char reason[DSP_REASON_BYTES])
{
	if (samples == expected)
		return 0;
	snprintf(reason, DSP_REASON_BYTES, "%s expected %d samples, got %ld", name, expected, samples);
	return -1;
}
