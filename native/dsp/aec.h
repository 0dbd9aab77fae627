/* Acoustic echo canceller: a multi-delay block frequency-domain adaptive filter (MDF: the echo path split
 * into partitions of one block each, filtered and adapted in the frequency domain), in two filters as speexdsp's
 * MDF has them: a background one that adapts and a foreground one that makes the output, which takes the
 * background's taps only when the background cancels better by more than chance would give, and gives its own
 * back when the background clearly trails (near-end talk it took for echo). The background's step per bin is the
 * residual echo's share of its error (a leak estimate times |Y|^2 over |E|^2: near-end talk slows it by itself),
 * or, where the error is coherent with the reference (echo in bins it never learnt: a new tone), a step from that
 * coherence; partitions holding more of the echo get more of it (proportionate). The output is never louder than
 * the microphone (such a block passes through; filters that stay so restart); an echo-path change (the echo lost,
 * not for a talker) starts the background again from zero at the start rate; a residual echo suppressor
 * (suppress.h) may follow, off by default.
 * The reference is delayed by the bulk delay the estimator in delay.c finds (less a margin), so the filter's
 * taps model the echo from its direct path on; when the estimate moves, the filters move with it.
 * Float throughout (the Cortex-M7's FPU); state in one struct the caller provides; nothing allocated. */
#ifndef DSP_AEC_H
#define DSP_AEC_H

#include <stdint.h>
#include "fft.h"
#include "delay.h"
#include "suppress.h"
/* A build that cannot pass -D to this code (the Moddable SDK's: a manifest's C_FLAGS would replace ESP32's) sizes it
 * in a header of its include folders (hosts/moddable/dsp/ais_dsp_config.h). */
#if defined(__has_include)
#if __has_include("ais_dsp_config.h")
#include "ais_dsp_config.h"
#endif
#endif

#define AEC_BLOCK 64                      /* samples per block: 4 ms at 16 kHz; a frame is whole blocks */
#define AEC_FFT (2 * AEC_BLOCK)
#define AEC_BINS (AEC_BLOCK + 1)
#ifndef AEC_MAX_PARTITIONS
#define AEC_MAX_PARTITIONS 32             /* 2,048 taps: 128 ms of echo tail; 16 halves the state for 1,024 */
#endif
#define AEC_LINE_BLOCKS (DELAY_MAX_BLOCKS + 2)  /* the reference delay line: the largest delay and one block before */

typedef struct {
  float re[AEC_BINS], im[AEC_BINS];
} aec_spectrum;

typedef struct {
  int frame_samples, partitions, next;    /* next: the partition ring's newest slot */
  int constrain;                          /* the partition whose gradient constraint is applied this block */
  long blocks;
  fft_plan fft;
  delay_state delay;
  int16_t line[AEC_LINE_BLOCKS][AEC_BLOCK];  /* the raw reference's last blocks, newest at `line_head` */
  int line_head;
  int shift;                              /* blocks the reference is delayed by before the filter */
  float time[AEC_FFT];
  aec_spectrum x[AEC_MAX_PARTITIONS];     /* the reference's last spectra, newest at `next` */
  aec_spectrum w[AEC_MAX_PARTITIONS];     /* background filter (adapts) */
  aec_spectrum wf[AEC_MAX_PARTITIONS];    /* foreground filter (outputs) */
  aec_spectrum e;                         /* the background's error spectrum, then its step */
  float gain[AEC_MAX_PARTITIONS];         /* proportionate step per partition (mean 1): partitions holding more echo learn faster */
  int strongest;                          /* the partition with the most echo */
  float cxe_re[AEC_BINS], cxe_im[AEC_BINS], cxx[AEC_BINS], cee[AEC_BINS];  /* smoothed cross and powers: the error's coherence with the reference */
  float residual[AEC_BINS];               /* the residual echo's power per bin, for the suppressor */
  float em[AEC_BINS], ym[AEC_BINS];       /* smoothed |E|^2 and |Y|^2, for the leak estimate */
  float pey, pyy, leak;                   /* residual echo = leak * |Y|^2 */
  float davg1, davg2, dvar1, dvar2;       /* the foreground's lead over the background, and its spread, short and long */
  float fg_err, bg_err, mic_err;          /* smoothed energies of both filters' errors and the microphone, for the divergence test */
  float sum_adapt;                        /* learning done before the first convergence */
  int adapted;                            /* converged once */
  float fg_slow, mic_slow, far_slow;      /* the output's, microphone's and reference's energies over ~0.4 s of far end */
  float erl, coherence;                   /* microphone over reference, and the delay estimator's correlation, while converged */
  int diverged, lost;                     /* blocks in a row that looked diverged, or lost (the path changed) */
  long resets, path_changes;              /* how often the filters restarted (diverged) and relearnt fast (path change) */
  suppress_state post;                    /* the residual echo suppressor after the filter */
  int suppress;                           /* on, or off (the default) */
} aec_state;

/* taps: the echo tail to model, a multiple of AEC_BLOCK up to 2,048. Returns 0, or -1 on a bad argument. */
int aec_init(aec_state *st, int frame_samples, int taps);
void aec_reset(aec_state *st);
/* One frame: microphone and the aligned speaker reference in, the cleaned microphone out (may be mic). */
void aec_process(aec_state *st, const int16_t *mic, const int16_t *ref, int16_t *out);
/* The bulk delay found between the reference and the microphone, in samples (a multiple of AEC_BLOCK), or -1
 * while none is found yet; the filter's reference is delayed by it less AEC_DELAY_MARGIN blocks. */
int aec_bulk_delay(const aec_state *st);
/* Since init or aec_reset: restarts after a divergence (the output would have been louder than the microphone), and echo-path
 * changes detected (fast learning again). */
long aec_resets(const aec_state *st);
long aec_path_changes(const aec_state *st);
/* The residual echo suppressor (suppress.h) after the linear filter: on (1) or off (0, aec_init's default: the
 * filter's output as is; on, it takes ~6 dB more echo and does not cost the user SDR in double talk on the held-out
 * half, docs/figures/aec.md). */
void aec_set_suppress(aec_state *st, int on);

#define AEC_DELAY_MARGIN 4                /* blocks: the estimate may be a few late (a strong reflection can outweigh the direct
                                           * path; after a path change one locked 2 blocks late), the filter must never lag */

#endif
