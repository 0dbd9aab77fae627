/* The checks of native/dsp's bindings, one for every binding: xsrun's and the image's (hosts/xs/xr_dsp.c) and the
 * Moddable build's (hosts/moddable/dsp.c). Each returns 0, or -1 with the one-line reason the binding throws. */
#ifndef NATIVE_DSP_CHECK_H
#define NATIVE_DSP_CHECK_H

#include "aec.h"
#include "kws.h"

#define DSP_REASON_BYTES 160

/* aec_init, and its refusal in words: the filter and frame this build's AEC_MAX_PARTITIONS allows. */
int dsp_aec_init_checked(aec_state *st, int frame_samples, int taps, char reason[DSP_REASON_BYTES]);
int dsp_kws_init_checked(kws_state *st, char reason[DSP_REASON_BYTES]);
/* A frame of `samples` where `name` needs exactly `expected`. */
int dsp_check_frame(long samples, int expected, const char *name, char reason[DSP_REASON_BYTES]);

#endif
