#include "aec.h"

/* Tuning, in the units of 16-bit samples; chosen on bench/aec.bench.ts's tuning half (docs/figures/aec.md has the other). */
#define SIGMA_MIN 30.0f           /* reference level below which nothing adapts (~ -60 dBFS) */
#define MU_START 0.4f             /* learning rate until the filter has converged once */
#define MU_RELEARN 0.7f           /* ... and after an echo-path change (the background starts from zero, quicker) */
#define ADAPT_FACTOR 16.0f        /* ... which is after this many partitions' worth of full-rate blocks */
#define MU_MAX 0.75f
#define LEAK_MIN 0.02f            /* the residual echo is never assumed below 2 % of the estimate */
#define LEAK_RATE 0.05f           /* the leak estimate's smoothing at full far-end dominance */
#define COPY_MARGIN 0.1f          /* the background must cancel 10 % better to become the foreground */
#define CALM_RATIO 30.0f          /* output 15 dB under the microphone: no one talks near the device, ... */
#define CALM_MARGIN 0.02f         /* ... so a 2 % lead suffices for the copy */
#define DIVERGED_RATIO 2.0f       /* the foreground's error 3 dB over the microphone ... */
#define DIVERGED_BLOCKS 25        /* ... for 100 ms: the filters are wrong, start again */
#define LOST_RATE 0.01f           /* over the last ~0.4 s of far-end blocks, ... */
#define LOST_RATIO 0.1f           /* the output within 10 dB of the microphone (converged once) ... */
#define LOST_BLOCKS 50            /* ... for 200 ms more than not while the far end plays ... */
#define LOST_LOUDER 1.4f          /* ... and the microphone not 1.5 dB louder against the reference than when converged
                                   * (a talker would make it so) ... */
#define LOST_COHERENT 0.9f        /* ... and the microphone still follows the reference as closely as when converged (the
                                   * delay estimator's correlation: a talker lowers it, a moved path does not): the echo
                                   * path changed, learn again */

static void clear(float *p, int n) { for (int i = 0; i < n; i++) p[i] = 0; }
static void clear_spectra(aec_spectrum *s, int n) { for (int i = 0; i < n; i++) { clear(s[i].re, AEC_BINS); clear(s[i].im, AEC_BINS); } }

int aec_init(aec_state *st, int frame_samples, int taps) {
  if (frame_samples <= 0 || frame_samples % AEC_BLOCK) return -1;
  if (taps < AEC_BLOCK || taps > AEC_BLOCK * AEC_MAX_PARTITIONS || taps % AEC_BLOCK) return -1;
  if (fft_init(&st->fft, AEC_FFT)) return -1;
  st->frame_samples = frame_samples;
  st->partitions = taps / AEC_BLOCK;
  st->suppress = 0;
  aec_reset(st);
  return 0;
}

void aec_reset(aec_state *st) {
  delay_reset(&st->delay);
  for (int b = 0; b < AEC_LINE_BLOCKS; b++) for (int i = 0; i < AEC_BLOCK; i++) st->line[b][i] = 0;
  st->line_head = 0;
  st->shift = 0;
  clear_spectra(st->x, AEC_MAX_PARTITIONS);
  clear_spectra(st->w, AEC_MAX_PARTITIONS);
  clear_spectra(st->wf, AEC_MAX_PARTITIONS);
  for (int k = 0; k < AEC_BINS; k++) st->pxx[k] = st->em[k] = st->ym[k] = 0;
  st->next = 0;
  st->constrain = 0;
  st->blocks = 0;
  st->pey = st->pyy = 0;
  st->leak = 1;
  st->fg_err = st->bg_err = st->fg_bg_diff = st->mic_err = 0;
  st->adapt_sum = 0;
  st->adapted = st->relearn = 0;
  st->resets = st->path_changes = 0;
  st->diverged = st->lost = 0;
  st->erl = st->coherence = st->fg_slow = st->mic_slow = st->far_slow = 0;
  suppress_reset(&st->post);
}

void aec_set_suppress(aec_state *st, int on) { st->suppress = on != 0; }

/* The filters start again (the delay estimate and the reference history stay): after a divergence. */
static void restart(aec_state *st) {
  clear_spectra(st->w, AEC_MAX_PARTITIONS);
  clear_spectra(st->wf, AEC_MAX_PARTITIONS);
  for (int k = 0; k < AEC_BINS; k++) st->em[k] = st->ym[k] = 0;
  st->pey = st->pyy = 0;
  st->leak = 1;
  st->fg_err = st->bg_err = st->fg_bg_diff = 0;
  st->adapt_sum = 0;
  st->adapted = st->relearn = 0;
  st->diverged = st->lost = 0;
}

/* Y = sum over partitions of W_p X_p. */
static void filter(const aec_state *st, const aec_spectrum *w, aec_spectrum *y) {
  for (int k = 0; k < AEC_BINS; k++) y->re[k] = y->im[k] = 0;
  for (int p = 0; p < st->partitions; p++) {
    const aec_spectrum *x = &st->x[(st->next + p) % st->partitions], *wp = &w[p];
    for (int k = 0; k < AEC_BINS; k++) {
      y->re[k] += wp->re[k] * x->re[k] - wp->im[k] * x->im[k];
      y->im[k] += wp->re[k] * x->im[k] + wp->im[k] * x->re[k];
    }
  }
}

/* e = d - (the block's linear-convolution part of IFFT(Y)); returns sum e^2. */
static float residual(aec_state *st, const aec_spectrum *y, const float *d, float *e) {
  fft_inverse(&st->fft, y->re, y->im, st->time);
  float energy = 0;
  for (int i = 0; i < AEC_BLOCK; i++) {
    e[i] = d[i] - st->time[AEC_BLOCK + i];
    energy += e[i] * e[i];
  }
  return energy;
}

static void copy_filter(aec_state *st, aec_spectrum *to, const aec_spectrum *from) {
  for (int p = 0; p < st->partitions; p++) to[p] = from[p];
}

/* x: this block of the (delayed) reference, prev: the one before it. */
static void block(aec_state *st, const float *prev, const float *x, const float *d, float *out) {
  int parts = st->partitions;
  float eb[AEC_BLOCK], ef[AEC_BLOCK];

  /* The newest reference spectrum, of the last two blocks (overlap-save). */
  st->next = (st->next + parts - 1) % parts;
  aec_spectrum *x0 = &st->x[st->next];
  for (int i = 0; i < AEC_BLOCK; i++) {
    st->time[i] = prev[i];
    st->time[AEC_BLOCK + i] = x[i];
  }
  fft_forward(&st->fft, st->time, x0->re, x0->im);
  float sxx = 0, sdd = 0;
  for (int i = 0; i < AEC_BLOCK; i++) {
    sxx += x[i] * x[i];
    sdd += d[i] * d[i];
  }

  /* Both filters' outputs; the foreground's error is what leaves. */
  filter(st, st->wf, &st->y);
  float sff = residual(st, &st->y, d, ef);
  filter(st, st->w, &st->y);
  float sbb = residual(st, &st->y, d, eb);
  /* While the output is far under the microphone (echo only: a talker's voice would stay in it), the adapting
   * filter's output leaves when it has been cancelling better: a copied foreground is a snapshot, the background
   * keeps tracking (its output was 1 dB of ERLE better on bench/aec.bench.ts's room). */
  int calm = st->fg_err * CALM_RATIO < st->mic_err;
  int use_bg = calm && st->bg_err < st->fg_err;
  /* Never louder than the microphone: a block the filter would make louder leaves as it came in. */
  const float *chosen = (use_bg ? sbb : sff) > sdd ? d : use_bg ? eb : ef;
  for (int i = 0; i < AEC_BLOCK; i++) out[i] = chosen[i];

  /* Error spectrum of the background filter. */
  for (int i = 0; i < AEC_BLOCK; i++) {
    st->time[i] = 0;
    st->time[AEC_BLOCK + i] = eb[i];
  }
  fft_forward(&st->fft, st->time, st->e.re, st->e.im);

  /* Residual echo: leak * |Y|^2, leak from how |E|^2 follows |Y|^2 across bins (near-end talk is
   * uncorrelated with Y, so it does not raise the estimate; its weight is lowered while E dominates). */
  float syy = 0, see = 0, cov = 0, var = 0;
  for (int k = 0; k < AEC_BINS; k++) {
    float ep = st->e.re[k] * st->e.re[k] + st->e.im[k] * st->e.im[k];
    float yp = st->y.re[k] * st->y.re[k] + st->y.im[k] * st->y.im[k];
    syy += yp;
    see += ep;
    float de = ep - st->em[k], dy = yp - st->ym[k];
    cov += de * dy;
    var += dy * dy;
    st->em[k] += 0.05f * de;
    st->ym[k] += 0.05f * dy;
  }
  float rate = see > 0 ? LEAK_RATE * (syy / see < 1 ? syy / see : 1) : 0;
  st->pey += rate * (cov - st->pey);
  st->pyy += rate * (var - st->pyy);
  if (st->pyy > 1e-9f * (var + 1)) {
    float leak = st->pey / st->pyy;
    st->leak = leak < LEAK_MIN ? LEAK_MIN : leak > 1 ? 1 : leak;
  }

  /* Reference power per bin over all partitions, exactly (the NLMS normalisation of the whole filter). A smoothed
   * estimate lags a moving tone: a swept sine then found bins whose power had decayed while their partitions
   * still held the tone, and their step outgrew 2, and the filter diverged. */
  float floor_power = (float)parts * AEC_FFT * SIGMA_MIN * SIGMA_MIN;
  for (int k = 0; k < AEC_BINS; k++) st->pxx[k] = 0;
  for (int p = 0; p < parts; p++) {
    const aec_spectrum *xp = &st->x[p];
    for (int k = 0; k < AEC_BINS; k++) st->pxx[k] += xp->re[k] * xp->re[k] + xp->im[k] * xp->im[k];
  }

  /* Per-bin learning rate. Before the first convergence there is no echo estimate to trust: a fixed rate
   * while the far end talks. After it: the residual echo's share of the error (Valin's optimal rate). */
  int far_active = sxx > AEC_BLOCK * SIGMA_MIN * SIGMA_MIN;
  float mu_used = 0;
  for (int k = 0; k < AEC_BINS; k++) {
    float mu;
    if (!far_active) mu = 0;
    else if (!st->adapted) mu = st->relearn ? MU_RELEARN : MU_START;
    else {
      float ep = st->e.re[k] * st->e.re[k] + st->e.im[k] * st->e.im[k];
      float yp = st->y.re[k] * st->y.re[k] + st->y.im[k] * st->y.im[k];
      float r = st->leak * yp;
      mu = r / (ep + 1e-3f * floor_power);
      if (mu > MU_MAX) mu = MU_MAX;
    }
    mu_used += mu;
    float scale = mu / (st->pxx[k] + floor_power);
    st->g.re[k] = scale * st->e.re[k];
    st->g.im[k] = scale * st->e.im[k];
  }
  if (far_active && !st->adapted) {
    st->adapt_sum += MU_START;
    if (st->adapt_sum > ADAPT_FACTOR * parts) st->adapted = 1, st->relearn = 0;
  }

  /* W_p += G conj(X_p); one partition per block also gets its taps' second half cut (the gradient
   * constraint that keeps the convolution linear, spread over blocks as in alternating MDF). */
  if (mu_used > 0) {
    for (int p = 0; p < parts; p++) {
      const aec_spectrum *xp = &st->x[(st->next + p) % parts];
      aec_spectrum *wp = &st->w[p];
      for (int k = 0; k < AEC_BINS; k++) {
        wp->re[k] += st->g.re[k] * xp->re[k] + st->g.im[k] * xp->im[k];
        wp->im[k] += st->g.im[k] * xp->re[k] - st->g.re[k] * xp->im[k];
      }
    }
    aec_spectrum *wc = &st->w[st->constrain];
    fft_inverse(&st->fft, wc->re, wc->im, st->time);
    for (int i = AEC_BLOCK; i < AEC_FFT; i++) st->time[i] = 0;
    fft_forward(&st->fft, st->time, wc->re, wc->im);
    st->constrain = (st->constrain + 1) % parts;
  }

  /* Two filters: the foreground takes the background once it cancels better for a while; a background that
   * diverged (near-end talk it mistook for echo) starts again from the foreground. */
  st->fg_err += 0.2f * (sff - st->fg_err);
  st->bg_err += 0.2f * (sbb - st->bg_err);
  st->fg_bg_diff += 0.2f * ((sff - sbb) - st->fg_bg_diff);
  st->mic_err += 0.2f * (sdd - st->mic_err);
  float quiet = AEC_BLOCK * SIGMA_MIN * SIGMA_MIN;

  /* Diverged: the foreground makes the microphone louder for a while (the output guard already hid it). */
  st->diverged = st->mic_err > quiet && st->fg_err > DIVERGED_RATIO * st->mic_err ? st->diverged + 1 : 0;
  if (st->diverged > DIVERGED_BLOCKS) {
    restart(st);
    st->resets++;
    st->blocks++;
    return;
  }
  /* The echo path changed: the output lost the echo while the far end plays, and the microphone is not louder
   * against the reference than when they had it (else someone talks: keep the filters). The background starts
   * again from zero at a faster fixed rate; the foreground keeps the output until the background beats it, so a
   * talker taken for a path change costs nothing heard. erl, coherence: the microphone over the reference and the delay estimator's
   * correlation while the output is calm (converged). */
  if (far_active) st->far_slow += LOST_RATE * (sxx - st->far_slow);
  if (calm && far_active) {
    st->erl += LOST_RATE * (st->mic_slow / (st->far_slow + quiet) - st->erl);
    st->coherence += LOST_RATE * (st->delay.confidence - st->coherence);
  }
  if (far_active) {
    st->fg_slow += LOST_RATE * (sff - st->fg_slow);
    st->mic_slow += LOST_RATE * (sdd - st->mic_slow);
  }
  int lost = st->adapted && far_active && st->fg_slow > LOST_RATIO * st->mic_slow
    && st->mic_slow < LOST_LOUDER * st->erl * (st->far_slow + quiet) && st->delay.confidence >= LOST_COHERENT * st->coherence;
  st->lost = lost ? st->lost + 1 : 0;
  if (st->lost > LOST_BLOCKS) {
    clear_spectra(st->w, AEC_MAX_PARTITIONS);
    st->adapted = 0;
    st->relearn = 1;
    st->adapt_sum = 0;
    st->lost = 0;
    st->path_changes++;
  }
  float margin = calm ? CALM_MARGIN : COPY_MARGIN;
  if (far_active && st->fg_bg_diff > margin * st->fg_err + quiet * 0.01f) {
    copy_filter(st, st->wf, st->w);
    st->fg_bg_diff = 0;
  } else if (st->adapted && st->bg_err > 4 * st->fg_err + quiet && st->bg_err > sdd) {
    copy_filter(st, st->w, st->wf);
    st->fg_bg_diff = 0;
    st->bg_err = st->fg_err;
  }
  st->blocks++;
}

/* The reference delay line's block `ago` blocks before the newest, as float. */
static void line_block(const aec_state *st, int ago, float *x) {
  const int16_t *b = st->line[(st->line_head + AEC_LINE_BLOCKS - ago) % AEC_LINE_BLOCKS];
  for (int i = 0; i < AEC_BLOCK; i++) x[i] = b[i];
}

/* Partition q moves to q - delta (delta = new shift - old), so the learnt echo path stays where it is in
 * time: the filters' taps and the reference spectra they multiply. Taps that fall off an end are dropped, new
 * ones start at zero; new reference spectra are made from the delay line (newer ones) or left at zero (older
 * than the line holds: the filter's far tail, for `delta` blocks). Runs before the block that the current
 * line_head holds, so position q is (shift + q) blocks before the previous one. */
static void realign(aec_state *st, int shift) {
  int parts = st->partitions, delta = shift - st->shift;
  float prev[AEC_BLOCK], x[AEC_BLOCK];
  for (int n = 0; n < parts; n++) {
    int q = delta > 0 ? n : parts - 1 - n, from = q + delta;
    aec_spectrum *xq = &st->x[(st->next + q) % parts];
    if (from >= 0 && from < parts) {
      *xq = st->x[(st->next + from) % parts];
      st->w[q] = st->w[from];
      st->wf[q] = st->wf[from];
      continue;
    }
    clear(st->w[q].re, AEC_BINS); clear(st->w[q].im, AEC_BINS);
    clear(st->wf[q].re, AEC_BINS); clear(st->wf[q].im, AEC_BINS);
    if (from < 0) {
      line_block(st, 1 + shift + q, x);
      line_block(st, 2 + shift + q, prev);
      for (int i = 0; i < AEC_BLOCK; i++) {
        st->time[i] = prev[i];
        st->time[AEC_BLOCK + i] = x[i];
      }
      fft_forward(&st->fft, st->time, xq->re, xq->im);
    } else {
      clear(xq->re, AEC_BINS); clear(xq->im, AEC_BINS);
    }
  }
  st->shift = shift;
}

void aec_process(aec_state *st, const int16_t *mic, const int16_t *ref, int16_t *out) {
  float raw[AEC_BLOCK], prev[AEC_BLOCK], x[AEC_BLOCK], d[AEC_BLOCK], e[AEC_BLOCK];
  for (int at = 0; at < st->frame_samples; at += AEC_BLOCK) {
    st->line_head = (st->line_head + 1) % AEC_LINE_BLOCKS;
    for (int i = 0; i < AEC_BLOCK; i++) {
      st->line[st->line_head][i] = ref[at + i];
      raw[i] = ref[at + i];
      d[i] = mic[at + i];
    }
    int found = delay_update(&st->delay, raw, d);
    int shift = found > AEC_DELAY_MARGIN ? found - AEC_DELAY_MARGIN : 0;
    if (shift != st->shift) realign(st, shift);
    line_block(st, shift, x);
    line_block(st, shift + 1, prev);
    block(st, prev, x, d, e);
    if (st->suppress) suppress_block(&st->post, &st->fft, e, st->y.re, st->y.im, st->leak, e);
    for (int i = 0; i < AEC_BLOCK; i++) {
      float v = e[i] + (e[i] >= 0 ? 0.5f : -0.5f);
      out[at + i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
  }
}

long aec_resets(const aec_state *st) { return st->resets; }
long aec_path_changes(const aec_state *st) { return st->path_changes; }

int aec_bulk_delay(const aec_state *st) {
  return st->delay.estimate < 0 ? -1 : st->delay.estimate * AEC_BLOCK;
}
