#include "suppress.h"

/* Tuning, chosen on bench/aec.bench.ts's tuning half (docs/figures/aec.md). */
#define OVER 2.0f                 /* over-subtraction: the residual estimate is rough, echo left is worse than a dip */
#define GAIN_MIN 0.01f            /* -40 dB at most; comfort noise fills the rest */
#define TAIL 0.7f                 /* the residual estimate decays by this per block (~ -10 dB in 25 ms) */
#define RELEASE 0.5f              /* gains rise back half way per block; fall at once */
#define PE_RATE 0.6f              /* output power smoothing per block */
#define NOISE_RISE 1.002f         /* the noise floor creeps up ~0.5 dB/s, falls to any quieter block */
#define AUDIBLE 0.01f             /* a residual under 1 % of the output's power: nothing to do in that bin */

void suppress_reset(suppress_state *st) {
  for (int i = 0; i < SUPPRESS_BLOCK; i++) st->prev[i] = 0;
  for (int k = 0; k < SUPPRESS_BINS; k++) {
    st->pe[k] = st->pr[k] = st->pn[k] = 0;
    st->gain[k] = 1;
  }
  st->seed = 12345;
}

/* Uniform in [-1, 1) from a 32-bit LCG: the same numbers on every build. */
static float noise(unsigned *seed) {
  *seed = *seed * 1664525u + 1013904223u;
  return (float)(int)(*seed >> 8) * (1.0f / (1 << 23)) - 1.0f;
}

void suppress_block(suppress_state *st, fft_plan *fft, const float *e, const float *residual, float *out) {
  for (int i = 0; i < SUPPRESS_BLOCK; i++) {
    st->time[i] = st->prev[i];
    st->time[SUPPRESS_BLOCK + i] = e[i];
    st->prev[i] = e[i];
  }
  fft_forward(fft, st->time, st->re, st->im);
  int untouched = 1;
  for (int k = 0; k < SUPPRESS_BINS; k++) {
    float pe = st->re[k] * st->re[k] + st->im[k] * st->im[k];
    float echo = residual[k];
    st->pe[k] += PE_RATE * (pe - st->pe[k]);
    st->pr[k] = echo > TAIL * st->pr[k] ? echo : TAIL * st->pr[k];
    st->pn[k] = pe < st->pn[k] * NOISE_RISE ? pe : st->pn[k] * NOISE_RISE + 1.0f;
    float g = 1;
    if (st->pr[k] > AUDIBLE * st->pe[k]) {
      g = 1 - OVER * st->pr[k] / (st->pe[k] + 1e-3f);
      if (g < GAIN_MIN) g = GAIN_MIN;
    }
    st->gain[k] = g < st->gain[k] ? g : st->gain[k] + RELEASE * (g - st->gain[k]);
    if (st->gain[k] < 0.999f) untouched = 0;
  }
  if (untouched) {
    for (int i = 0; i < SUPPRESS_BLOCK; i++) out[i] = e[i];
    return;
  }
  for (int k = 0; k < SUPPRESS_BINS; k++) {
    float g = st->gain[k];
    /* Comfort noise: what the gain took of the noise floor, with a random phase (uniform re, im: mean power 2/3). */
    float level = dsp_sqrt(st->pn[k] * (1 - g * g) * 1.5f);
    st->re[k] = g * st->re[k] + level * noise(&st->seed);
    st->im[k] = g * st->im[k] + level * noise(&st->seed);
  }
  st->im[0] = st->im[SUPPRESS_BINS - 1] = 0;
  fft_inverse(fft, st->re, st->im, st->time);
  for (int i = 0; i < SUPPRESS_BLOCK; i++) out[i] = st->time[SUPPRESS_BLOCK + i];
}
