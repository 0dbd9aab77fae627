/* The WebAssembly face of native/dsp for the Node host: freestanding (no libc), one canceller and one
 * wake-word detector per module instance, their frames in static buffers the host writes and reads through
 * the exported pointers. */
#include "aec.h"
#include "kws.h"

static aec_state aec;
static int16_t mic[AEC_BLOCK * 16], ref[AEC_BLOCK * 16], out[AEC_BLOCK * 16];

int16_t *dsp_aec_mic(void) { return mic; }
int16_t *dsp_aec_ref(void) { return ref; }
int16_t *dsp_aec_out(void) { return out; }
int dsp_aec_state_bytes(void) { return (int)sizeof aec; }

int dsp_aec_init(int frame_samples, int taps) {
  if (frame_samples > AEC_BLOCK * 16) return -1;
  return aec_init(&aec, frame_samples, taps);
}
void dsp_aec_reset(void) { aec_reset(&aec); }
void dsp_aec_process(void) { aec_process(&aec, mic, ref, out); }
int dsp_aec_bulk_delay(void) { return aec_bulk_delay(&aec); }
float dsp_aec_delay_confidence(void) { return aec.delay.confidence; }
int dsp_aec_resets(void) { return (int)aec_resets(&aec); }
int dsp_aec_path_changes(void) { return (int)aec_path_changes(&aec); }
void dsp_aec_set_suppress(int on) { aec_set_suppress(&aec, on); }

static kws_state kws;
static int16_t kws_frame[KWS_FRAME];
static float kws_vector[KWS_BANDS];

int16_t *dsp_kws_frame(void) { return kws_frame; }
float *dsp_kws_vector(void) { return kws_vector; }
int dsp_kws_init(void) { return kws_init(&kws); }
void dsp_kws_reset(void) { kws_reset(&kws); }
/* Features only, into kws_vector (training); the score of the network (detection). */
void dsp_kws_features(void) { kws_features(&kws, kws_frame, kws_vector); }
float dsp_kws_process(void) { return kws_process(&kws, kws_frame); }

/* clang turns struct copies and zeroing loops into these calls; a freestanding module supplies them. */
void *memcpy(void *to, const void *from, unsigned long n) {
  unsigned char *t = to;
  const unsigned char *f = from;
  while (n--) *t++ = *f++;
  return to;
}
void *memset(void *to, int c, unsigned long n) {
  unsigned char *t = to;
  while (n--) *t++ = (unsigned char)c;
  return to;
}
