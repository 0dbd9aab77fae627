#include "delay.h"

/* Tuning, in the units of 16-bit samples; chosen on bench/aec.bench.ts's signals at 0 to 80 ms. */
#define LEVEL_FLOOR (DELAY_BLOCK * 16.0f) /* per-band energy floor (RMS 4): silence is a level, not -inf */
#define FAR_FLOOR (DELAY_BLOCK * 900.0f)  /* the reference plays: RMS above 30 (~ -60 dBFS) */
#define MEAN_RATE 0.125f                  /* the mean level's smoothing: ~32 ms, features are onsets */
#define CORR_RATE (1.0f / 128)            /* correlation smoothing: ~0.5 s of far-end blocks */
#define WARMUP 64                         /* far-end blocks before a first estimate */
#define HOLD 32                           /* updates a new lag must lead for (128 ms) */
#define LEAD 1.2f                         /* ... by this factor over the current estimate's correlation */
#define MIN_CONFIDENCE 0.25f              /* the best lag's squared correlation coefficient: an echo, not chance */

/* log2 to ~0.1: exponent bits plus the mantissa taken as linear (a level for matching, not a measurement). */
static float rough_log2(float x) {
  union { float f; unsigned u; } v = { x };
  return (float)v.u * (1.0f / (1 << 23)) - 127.0f;
}

/* Band energies of one block: s1 = x + x[-1], s2 = s1 + s1[-2], s3 = s2 + s2[-4] (low-passes) and their
 * differences (band-passes); `tail` carries the last DELAY_HISTORY samples to the next block. */
static void bands(float *tail, const float *x, float *level) {
  float buf[DELAY_HISTORY + DELAY_BLOCK], e[DELAY_BANDS] = { 0, 0, 0, 0 };
  for (int i = 0; i < DELAY_HISTORY; i++) buf[i] = tail[i];
  for (int i = 0; i < DELAY_BLOCK; i++) buf[DELAY_HISTORY + i] = x[i];
  for (int i = DELAY_HISTORY; i < DELAY_HISTORY + DELAY_BLOCK; i++) {
    float s1 = buf[i] + buf[i - 1], s1_2 = buf[i - 2] + buf[i - 3];
    float s1_4 = buf[i - 4] + buf[i - 5], s1_6 = buf[i - 6] + buf[i - 7];
    float s2 = s1 + s1_2, s2_4 = s1_4 + s1_6;
    float d1 = buf[i] - buf[i - 1], d2 = s1 - s1_2, d3 = s2 - s2_4, s3 = s2 + s2_4;
    e[0] += s3 * s3 * (1.0f / 64);        /* gains of the Haar sums, so that bands compare */
    e[1] += d3 * d3 * (1.0f / 64);
    e[2] += d2 * d2 * (1.0f / 16);
    e[3] += d1 * d1 * (1.0f / 4);
  }
  for (int i = 0; i < DELAY_HISTORY; i++) tail[i] = buf[DELAY_BLOCK + i];
  for (int b = 0; b < DELAY_BANDS; b++) level[b] = rough_log2(e[b] + LEVEL_FLOOR);
}

static void onsets(float *mean, const float *level, float *out) {
  for (int b = 0; b < DELAY_BANDS; b++) {
    out[b] = level[b] - mean[b];
    mean[b] += MEAN_RATE * out[b];
  }
}

void delay_reset(delay_state *st) {
  for (int i = 0; i < DELAY_HISTORY; i++) st->ref_tail[i] = st->mic_tail[i] = 0;
  float silent = rough_log2(LEVEL_FLOOR);
  for (int b = 0; b < DELAY_BANDS; b++) st->ref_mean[b] = st->mic_mean[b] = silent;
  for (int l = 0; l <= DELAY_MAX_BLOCKS; l++) {
    st->corr[l] = 0;
    for (int b = 0; b < DELAY_BANDS; b++) st->ref_onsets[l][b] = 0;
  }
  st->mic_power = st->ref_power = st->confidence = 0;
  st->newest = 0;
  st->since_far = DELAY_MAX_BLOCKS + 1;
  st->updates = 0;
  st->estimate = -1;
  st->candidate = -1;
  st->held = 0;
}

int delay_update(delay_state *st, const float *ref, const float *mic) {
  float level[DELAY_BANDS], m[DELAY_BANDS];
  float far = 0;
  for (int i = 0; i < DELAY_BLOCK; i++) far += ref[i] * ref[i];
  st->since_far = far > FAR_FLOOR ? 0 : st->since_far + 1;

  st->newest = (st->newest + 1) % (DELAY_MAX_BLOCKS + 1);
  bands(st->ref_tail, ref, level);
  onsets(st->ref_mean, level, st->ref_onsets[st->newest]);
  bands(st->mic_tail, mic, level);
  onsets(st->mic_mean, level, m);
  /* Only while the reference played within the lags looked at: otherwise the microphone holds no echo. */
  if (st->since_far > DELAY_MAX_BLOCKS) return st->estimate;

  float mp = 0, rp = 0;
  const float *r0 = st->ref_onsets[st->newest];
  for (int b = 0; b < DELAY_BANDS; b++) {
    mp += m[b] * m[b];
    rp += r0[b] * r0[b];
  }
  st->mic_power += CORR_RATE * (mp - st->mic_power);
  st->ref_power += CORR_RATE * (rp - st->ref_power);
  int best = 0;
  for (int l = 0; l <= DELAY_MAX_BLOCKS; l++) {
    const float *r = st->ref_onsets[(st->newest + DELAY_MAX_BLOCKS + 1 - l) % (DELAY_MAX_BLOCKS + 1)];
    float c = 0;
    for (int b = 0; b < DELAY_BANDS; b++) c += m[b] * r[b];
    st->corr[l] += CORR_RATE * (c - st->corr[l]);
    if (st->corr[l] > st->corr[best]) best = l;
  }
  st->updates++;

  /* A new lag is taken when it has led for HOLD updates, correlates clearly and beats the current one. */
  st->held = best == st->candidate ? st->held + 1 : 1;
  st->candidate = best;
  float peak = st->corr[best], norm = st->mic_power * st->ref_power;
  st->confidence = peak > 0 && norm > 0 ? peak * peak / norm : 0;
  if (best != st->estimate && st->updates >= WARMUP && st->held >= HOLD && st->confidence >= MIN_CONFIDENCE
      && (st->estimate < 0 || peak > LEAD * st->corr[st->estimate])) {
    st->estimate = best;
  }
  return st->estimate;
}
