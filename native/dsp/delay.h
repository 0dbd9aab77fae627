/* Bulk-delay estimator: how many 64-sample blocks the loudspeaker's sound takes to come back into the
 * microphone (output buffers, DAC, air, ADC), found from the signals alone so that the echo canceller's
 * filter can spend its taps on the echo's tail, not on the silence before it. Per block, the energies of four
 * bands (an undecimated Haar split: < 1, 1-2, 2-4, 4-8 kHz) of the reference and the microphone, as log
 * levels minus their recent mean (onsets); a smoothed cross-correlation of the two over every lag; the best
 * lag is taken only after it has led for a while and clearly (hysteresis). Float; state in one struct the
 * caller provides; nothing allocated. */
#ifndef DSP_DELAY_H
#define DSP_DELAY_H

#define DELAY_BLOCK 64                    /* samples per block: 4 ms at 16 kHz */
#define DELAY_BANDS 4
#ifndef DELAY_MAX_BLOCKS
#define DELAY_MAX_BLOCKS 32               /* lags 0..32 blocks: 0 to 128 ms */
#endif
#define DELAY_HISTORY 7                   /* samples of the last block the band split needs */

typedef struct {
  float ref_tail[DELAY_HISTORY], mic_tail[DELAY_HISTORY];
  float ref_mean[DELAY_BANDS], mic_mean[DELAY_BANDS];   /* recent mean log level per band */
  float ref_onsets[DELAY_MAX_BLOCKS + 1][DELAY_BANDS];  /* the reference's features, a ring, newest at `newest` */
  int newest;
  int since_far;                          /* blocks since the reference last played (above the floor) */
  float corr[DELAY_MAX_BLOCKS + 1];       /* smoothed correlation per lag */
  float mic_power, ref_power;             /* smoothed feature powers, to make corr a coefficient */
  float confidence;                       /* the best lag's squared correlation coefficient, 0..1 */
  long updates;                           /* blocks that updated corr */
  int estimate;                           /* blocks, or -1 while not yet found */
  int candidate, held;                    /* the lag that leads and for how many updates */
} delay_state;

void delay_reset(delay_state *st);
/* One block each of the raw reference and the microphone (DELAY_BLOCK samples). Returns the estimate in
 * blocks, or -1 while there is none yet. */
int delay_update(delay_state *st, const float *ref, const float *mic);

#endif
