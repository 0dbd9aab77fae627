/* Residual echo suppressor: the post-filter after the echo canceller. What the linear filter leaves (the echo it has
 * not learnt yet, the loudspeaker's distortion, the tail beyond its taps) is estimated per bin from the filter's echo
 * estimate (leak * |Y|^2, the canceller's own residual share, held over a decay for the room's tail) and taken out by
 * a gain per bin against the output's power; what the gain removes of the background noise is put back as comfort
 * noise of the same spectrum, so the far end hears no pumping. A talker louder than the residual keeps a gain near 1;
 * with no echo estimate every gain is 1 and the block leaves untouched. No latency: the gains are applied to the
 * spectrum of the last two blocks and the newer block is kept. Float; state in the caller's struct; nothing allocated. */
#ifndef DSP_SUPPRESS_H
#define DSP_SUPPRESS_H

#include "fft.h"

#define SUPPRESS_BLOCK 64
#define SUPPRESS_BINS (SUPPRESS_BLOCK + 1)

typedef struct {
  float prev[SUPPRESS_BLOCK];             /* the canceller's previous output block */
  float time[2 * SUPPRESS_BLOCK];
  float re[SUPPRESS_BINS], im[SUPPRESS_BINS];
  float pe[SUPPRESS_BINS];                /* smoothed output power */
  float pr[SUPPRESS_BINS];                /* residual echo estimate, held over the room's decay */
  float pn[SUPPRESS_BINS];                /* background noise floor (slow rise, fast fall) */
  float gain[SUPPRESS_BINS];
  unsigned seed;                          /* comfort noise */
} suppress_state;

void suppress_reset(suppress_state *st);
/* One block: e, the canceller's output (SUPPRESS_BLOCK samples); residual, its estimate of the echo left in it
 * per bin (power, as in a 2 * SUPPRESS_BLOCK FFT of the last two blocks). Writes the suppressed block to out (may be e). */
void suppress_block(suppress_state *st, fft_plan *fft, const float *e, const float *residual, float *out);

#endif
