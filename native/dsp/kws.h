/* Wake-word detector for "Alexa": log-mel features per 20 ms frame and a small network over the last second
 * of them, int8 weights trained by bench/train-wake-word.ts (kws_weights.h); integer dot products, so every host
 * computes the same bits cheaply. State in one struct the caller provides; nothing allocated. */
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
#define KWS_RANGE 12              /* log2 units (36 dB) under the window's loudest value where the input floors */
#define KWS_INPUT_ONE 256         /* the integer input's step: 1/256 of a log2 unit */
#define KWS_BINS (KWS_WINDOW / 2 + 1)

typedef struct {
  fft_plan fft;
  float window[KWS_WINDOW];       /* Hann */
  float history[KWS_WINDOW];      /* the last KWS_WINDOW samples */
  union {                         /* the FFT's buffers are free again once the frame's features are out */
    struct { float time[KWS_WINDOW], re[KWS_BINS], im[KWS_BINS]; } fft;
    float pooled[KWS_INPUTS];     /* the ring unrolled, oldest first, pooled */
  } work;
  int8_t segment[KWS_BINS];       /* the mel band whose rising edge holds the bin (its falling one is band - 1), -1 for none */
  float rise[KWS_BINS];           /* the bin's weight in that band (1 - rise in the one below) */
  int16_t input[KWS_INPUTS];      /* the network's input: pooled, floored, each band's mean removed, in KWS_INPUT_ONE steps */
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
