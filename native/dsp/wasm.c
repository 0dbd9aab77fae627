/* The WebAssembly face of native/dsp for the Node host: freestanding (no libc), one canceller per module
 * instance, its frames in static buffers the host writes and reads through the exported pointers. */
#include "aec.h"

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
