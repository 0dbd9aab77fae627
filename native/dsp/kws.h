/* Wake-word detector for "Alexa": log-mel features per 20 ms frame and a small network over the last second
 * of them, int8 weights trained by tools/train-wake-word.ts (kws_weights.h). State in one struct the caller
 * provides; nothing allocated. */
#ifndef DSP_KWS_H
#define DSP_KWS_H

#include <stdint.h>
#include "fft.h"

#define KWS_FRAME 320             /* 20 ms at 16 kHz: one feature vector per frame */
#define KWS_WINDOW 512            /* analysis window: this frame and the end of the previous one */
#define KWS_BANDS 24              /* mel bands, 100 to 7,600 Hz */
#define KWS_CONTEXT 50            /* frames the network sees: 1 s */
#define KWS_POOL 2                /* frames averaged into one network step (40 ms): half the inputs, twice the units */
#define KWS_STEPS (KWS_CONTEXT / KWS_POOL)
#define KWS_HIDDEN 48
#define KWS_INPUTS (KWS_BANDS * KWS_STEPS)

typedef struct {
  fft_plan fft;
  float window[KWS_WINDOW];       /* Hann */
  float history[KWS_WINDOW];      /* the last KWS_WINDOW samples */
  float time[KWS_WINDOW];
  float re[KWS_WINDOW / 2 + 1], im[KWS_WINDOW / 2 + 1];
  float edge[KWS_BANDS + 2];      /* mel filter edges, in FFT bins */
  float input[KWS_INPUTS];        /* the network's input: the ring unrolled, oldest first, pooled, each band's mean removed */
  float features[KWS_CONTEXT][KWS_BANDS];   /* ring of the last KWS_CONTEXT feature vectors */
  int newest, frames;
  float hidden[KWS_HIDDEN];
  float score;                    /* the network's last output, 0..1 */
} kws_state;

int kws_init(kws_state *st);
void kws_reset(kws_state *st);
/* Features of one frame into the ring (exposed for training: `out` gets the normalised vector, may be NULL). */
void kws_features(kws_state *st, const int16_t *frame, float *out);
/* One frame: features, then the network over the last second; returns the score (0..1). */
float kws_process(kws_state *st, const int16_t *frame);

/* log2 without libm (the WebAssembly build is freestanding): exponent bits plus a polynomial, ~1e-4 error. */
float dsp_log2f(float x);

#endif
