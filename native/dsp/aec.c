#include "aec.h"

/* Tuning, in the units of 16-bit samples; chosen on bench/aec.bench.ts's tuning half (docs/figures/aec.md has the other). */
#define SIGMA_MIN 30.0f           /* reference level below which nothing adapts (~ -60 dBFS) */
#define MU_START 0.5f             /* step before the first convergence, while the error is no louder than the reference */
#define ADAPT_BLOCKS 4.0f         /* converged once after this many partitions' worth of full-rate blocks */
#define MU_MAX 0.5f               /* the per-bin step, the residual echo's share of the error, is capped here */
#define LEAK_MIN 0.005f           /* the residual echo is never assumed below 0.5 % of the estimate */
#define SPEC_RATE 0.004f          /* smoothing of the power spectra the leak regression is taken around (~1 s) */
#define LEAK_RATE 0.008f         /* the leak regression's smoothing, scaled by the echo estimate over the error, ... */
#define LEAK_RATE_MAX 0.002f     /* ... and capped */
#define REGULARISE 0.05f         /* every bin's step normalised by at least 5 % of the mean bin's reference power */
#define MU_COHERENT 0.5f          /* the step where the error is wholly coherent with the reference (echo not learnt yet) */
#define COH_RATE 0.05f            /* coherence smoothing (~20 blocks, 80 ms) ... */
#define COH_CHANCE 0.2f           /* ... whose chance level between unrelated signals is about this: no step below it */
#define GAIN_FLOOR 0.1f           /* every partition keeps 10 % of the largest one's proportionate share */
#define AVG1 0.9f                 /* the foreground's lead over the background, smoothed short (~40 ms) ... */
#define AVG2 0.97f                /* ... and long (~130 ms) */
#define VAR1 0.5f                 /* the background takes over when it leads beyond this many of its spreads, short ... */
#define VAR2 0.25f                /* ... or long */
#define BACKTRACK 4.0f            /* the background restarts from the foreground when it trails by this many */
#define LOST_RATE 0.01f           /* over the last ~0.4 s of far-end blocks, ... */
#define LOST_RATIO 0.1f           /* the output within 10 dB of the microphone (converged once) ... */
#define LOST_BLOCKS 50            /* ... for 200 ms while the far end plays ... */
#define LOST_LOUDER 1.4f          /* ... and the microphone not 1.5 dB louder against the reference than when converged
                                   * (a talker would make it so) ... */
#define LOST_COHERENT 0.9f        /* ... and the microphone still follows the reference as closely as when converged (the
                                   * delay estimator's correlation: a talker lowers it, a moved path does not): the echo
                                   * path changed, the background learns again from zero */
#define LOST_HOLD 250            /* blocks (1 s) after a detection before the next */
#define CALM_RATIO 30.0f          /* converged: the output 15 dB under the microphone */
#define DIVERGED_RATIO 2.0f       /* the foreground's error 3 dB over the microphone ... */
#define DIVERGED_BLOCKS 25        /* ... for 100 ms: the filters are wrong, start again */

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

/* The filters and what they learnt start again (the delay estimate and the reference history stay). */
static void restart(aec_state *st) {
  clear_spectra(st->w, AEC_MAX_PARTITIONS);
  clear_spectra(st->wf, AEC_MAX_PARTITIONS);
  for (int k = 0; k < AEC_BINS; k++) st->em[k] = st->ym[k] = 0;
  st->pey = st->pyy = 0;
  st->leak = 1;
  st->davg1 = st->davg2 = st->dvar1 = st->dvar2 = 0;
  st->fg_err = st->bg_err = st->mic_err = 0;
  st->sum_adapt = 0;
  st->adapted = 0;
  st->diverged = st->lost = 0;
  st->fg_slow = st->mic_slow = st->far_slow = st->erl = st->coherence = 0;
  for (int k = 0; k < AEC_BINS; k++) st->cxe_re[k] = st->cxe_im[k] = st->cxx[k] = st->cee[k] = st->residual[k] = 0;
  st->strongest = 0;
}

void aec_reset(aec_state *st) {
  delay_reset(&st->delay);
  for (int b = 0; b < AEC_LINE_BLOCKS; b++) for (int i = 0; i < AEC_BLOCK; i++) st->line[b][i] = 0;
  st->line_head = 0;
  st->shift = 0;
  clear_spectra(st->x, AEC_MAX_PARTITIONS);
  st->next = 0;
  st->constrain = 0;
  st->blocks = 0;
  st->resets = st->path_changes = 0;
  restart(st);
  suppress_reset(&st->post);
}

void aec_set_suppress(aec_state *st, int on) { st->suppress = on != 0; }

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

/* e = d - y (the block's linear-convolution part of IFFT(Y), left in y); returns sum e^2. */
static float residual(aec_state *st, const aec_spectrum *ys, const float *d, float *y, float *e) {
  fft_inverse(&st->fft, ys->re, ys->im, st->time);
  float energy = 0;
  for (int i = 0; i < AEC_BLOCK; i++) {
    y[i] = st->time[AEC_BLOCK + i];
    e[i] = d[i] - y[i];
    energy += e[i] * e[i];
  }
  return energy;
}

static void copy_filter(aec_state *st, aec_spectrum *to, const aec_spectrum *from) {
  for (int p = 0; p < st->partitions; p++) to[p] = from[p];
}

static float power(const aec_spectrum *s, int k) { return s->re[k] * s->re[k] + s->im[k] * s->im[k]; }

/* Proportionate steps: a partition's share follows its taps' norm (the echo's direct path and early reflections
 * learn first), with a floor so that none stops learning; all equal while the filter is empty. */
static void proportion(aec_state *st) {
  int parts = st->partitions;
  float sum = 0, most = 0;
  for (int p = 0; p < parts; p++) {
    float n = 0;
    for (int k = 0; k < AEC_BINS; k++) n += power(&st->w[p], k);
    st->gain[p] = dsp_sqrt(n);
    sum += st->gain[p];
    if (st->gain[p] > most) most = st->gain[p];
  }
  float total = sum + GAIN_FLOOR * most * parts;
  st->strongest = 0;
  for (int p = 0; p < parts; p++) {
    if (st->gain[p] > st->gain[st->strongest]) st->strongest = p;
    st->gain[p] = total > 0 ? parts * (st->gain[p] + GAIN_FLOOR * most) / total : 1;
  }
}

/* The leak estimate: how the error's power follows the echo estimate's across bins, as a regression of their
 * fluctuations around slow means (near-end talk does not follow Y, so it does not raise it), updated faster
 * while the echo estimate dominates the error. */
static void leak_update(aec_state *st, const aec_spectrum *y, float syy, float see) {
  float cov = 0, var = 0;
  for (int k = 0; k < AEC_BINS; k++) {
    float ep = power(&st->e, k), yp = power(y, k);
    float de = ep - st->em[k], dy = yp - st->ym[k];
    cov += de * dy;
    var += dy * dy;
    st->em[k] += SPEC_RATE * (ep - st->em[k]);
    st->ym[k] += SPEC_RATE * (yp - st->ym[k]);
  }
  float rate = LEAK_RATE * syy;
  if (rate > LEAK_RATE_MAX * see) rate = LEAK_RATE_MAX * see;
  rate /= see;
  st->pey += rate * (cov - st->pey);
  st->pyy += rate * (var - st->pyy);
  if (st->pyy < 1) st->pyy = 1;
  if (st->pey < LEAK_MIN * st->pyy) st->pey = LEAK_MIN * st->pyy;
  if (st->pey > st->pyy) st->pey = st->pyy;
  st->leak = st->pey / st->pyy;
}

/* x: this block of the (delayed) reference, prev: the one before it. */
static void block(aec_state *st, const float *prev, const float *x, const float *d, float *out) {
  int parts = st->partitions;
  float eb[AEC_BLOCK], ef[AEC_BLOCK], yb[AEC_BLOCK], yf[AEC_BLOCK], norm[AEC_BINS];
  aec_spectrum y;                         /* an echo estimate's spectrum: the foreground's, then the background's */

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

  /* Both filters' outputs: the foreground's error is what leaves, the background's is what it learns from. */
  filter(st, st->wf, &y);
  float sff = residual(st, &y, d, yf, ef);
  filter(st, st->w, &y);
  float see = residual(st, &y, d, yb, eb);
  float syy = 0, dbf = 10;
  for (int i = 0; i < AEC_BLOCK; i++) {
    syy += yb[i] * yb[i];
    dbf += (yf[i] - yb[i]) * (yf[i] - yb[i]);
  }

  /* The background takes over when it leads by more than chance would give (the filters' outputs differ by
   * dbf): at once, or over ~40 ms, or ~130 ms; the block then fades from the old output to the new. It restarts
   * from the foreground when it trails as clearly (near-end talk it took for echo). */
  float lead = sff - see;
  st->davg1 = AVG1 * st->davg1 + (1 - AVG1) * lead;
  st->davg2 = AVG2 * st->davg2 + (1 - AVG2) * lead;
  st->dvar1 = AVG1 * AVG1 * st->dvar1 + (1 - AVG1) * (1 - AVG1) * sff * dbf;
  st->dvar2 = AVG2 * AVG2 * st->dvar2 + (1 - AVG2) * (1 - AVG2) * sff * dbf;
  const float *chosen = ef;
  float sout = sff;
  if (lead * (lead < 0 ? -lead : lead) > sff * dbf || st->davg1 * (st->davg1 < 0 ? -st->davg1 : st->davg1) > VAR1 * st->dvar1
      || st->davg2 * (st->davg2 < 0 ? -st->davg2 : st->davg2) > VAR2 * st->dvar2) {
    copy_filter(st, st->wf, st->w);
    st->davg1 = st->davg2 = st->dvar1 = st->dvar2 = 0;
    sout = 0;
    for (int i = 0; i < AEC_BLOCK; i++) {
      float fade = (i + 0.5f) * (1.0f / AEC_BLOCK);
      ef[i] += fade * (eb[i] - ef[i]);
      sout += ef[i] * ef[i];
    }
  } else if (-lead * (lead < 0 ? -lead : lead) > BACKTRACK * sff * dbf || -st->davg1 * (st->davg1 < 0 ? -st->davg1 : st->davg1) > BACKTRACK * st->dvar1
      || -st->davg2 * (st->davg2 < 0 ? -st->davg2 : st->davg2) > BACKTRACK * st->dvar2) {
    copy_filter(st, st->w, st->wf);
    filter(st, st->w, &y);
    see = residual(st, &y, d, yb, eb);
    syy = 0;
    for (int i = 0; i < AEC_BLOCK; i++) syy += yb[i] * yb[i];
    st->davg1 = st->davg2 = st->dvar1 = st->dvar2 = 0;
  }
  /* Never louder than the microphone: a block the filter would make louder leaves as it came in. */
  if (sout > sdd) chosen = d;
  for (int i = 0; i < AEC_BLOCK; i++) out[i] = chosen[i];

  /* Diverged: the foreground makes the microphone louder for a while (the guard above already hid it). */
  float quiet = AEC_BLOCK * SIGMA_MIN * SIGMA_MIN;
  st->fg_err += 0.2f * (sff - st->fg_err);
  st->mic_err += 0.2f * (sdd - st->mic_err);
  st->bg_err += 0.2f * (see - st->bg_err);
  st->diverged = st->mic_err > quiet && st->fg_err > DIVERGED_RATIO * st->mic_err ? st->diverged + 1 : 0;
  if (st->diverged > DIVERGED_BLOCKS) {
    /* A stale foreground (the background tracked a moving tone it did not) takes the background; both wrong: restart. */
    st->diverged = 0;
    if (st->bg_err < st->mic_err) {
      copy_filter(st, st->wf, st->w);
      st->fg_err = st->bg_err;
    } else {
      restart(st);
      st->resets++;
      st->blocks++;
      return;
    }
  }

  /* The echo path changed: the output lost the echo while the far end plays, and the microphone is neither
   * louder against the reference nor less coherent with it than while converged (else someone talks: keep the
   * filters). The background starts again from zero at the start rate; the foreground keeps the output until
   * the background beats it, so a talker taken for a path change costs nothing heard. */
  int far_active = sxx > quiet;
  if (far_active) {
    st->far_slow += LOST_RATE * (sxx - st->far_slow);
    st->fg_slow += LOST_RATE * (sff - st->fg_slow);
    st->mic_slow += LOST_RATE * (sdd - st->mic_slow);
    if (st->fg_err * CALM_RATIO < st->mic_err) {
      st->erl += LOST_RATE * (st->mic_slow / (st->far_slow + quiet) - st->erl);
      st->coherence += LOST_RATE * (st->delay.confidence - st->coherence);
    }
  }
  int lost = st->adapted && far_active && st->fg_slow > LOST_RATIO * st->mic_slow
    && st->mic_slow < LOST_LOUDER * st->erl * (st->far_slow + quiet) && st->delay.confidence >= LOST_COHERENT * st->coherence;
  if (st->lost < 0) st->lost++;          /* held off after a detection: the foreground's average still holds the lost echo */
  else st->lost = lost ? st->lost + 1 : 0;
  if (st->lost > LOST_BLOCKS) {
    clear_spectra(st->w, AEC_MAX_PARTITIONS);
    for (int k = 0; k < AEC_BINS; k++) st->em[k] = st->ym[k] = 0;
    st->pey = st->pyy = 0;
    st->adapted = 0;
    st->sum_adapt = 0;
    st->lost = -LOST_HOLD;
    st->path_changes++;
  }

  /* Error spectrum of the background filter, and the leak estimate. */
  for (int i = 0; i < AEC_BLOCK; i++) {
    st->time[i] = 0;
    st->time[AEC_BLOCK + i] = eb[i];
  }
  fft_forward(&st->fft, st->time, st->e.re, st->e.im);
  if (see < AEC_BLOCK * 100.0f) see = AEC_BLOCK * 100.0f;
  leak_update(st, &y, syy, see);

  /* Per-bin step. Before the first convergence there is no echo estimate to trust: a fixed step while the far
   * end plays, smaller while the error outweighs the reference. After it: the residual echo's share of the
   * error per bin (leak |Y|^2 / |E|^2: near-end talk in E slows it by itself). A block-wide residual-to-error
   * term (speexdsp's) cost 2 dB of double-talk SDR on the tuning half; the path-change test above does its job. */
  float mu_start = 0;
  if (far_active) mu_start = sxx < see ? MU_START * sxx / see : MU_START;
  proportion(st);
  float floor_power = (float)parts * AEC_FFT * SIGMA_MIN * SIGMA_MIN;
  for (int k = 0; k < AEC_BINS; k++) norm[k] = 0;
  for (int p = 0; p < parts; p++) {
    const aec_spectrum *xp = &st->x[(st->next + p) % parts];
    for (int k = 0; k < AEC_BINS; k++) norm[k] += st->gain[p] * power(xp, k);
  }
  /* A floor relative to the whole spectrum's: a bin the reference hardly reaches (beside a tone) holds little of
   * it but much of the error's leakage (the error block is zero-padded), and a step normalised by its power
   * alone would throw that leakage into the filter. */
  float mean = 0;
  for (int k = 0; k < AEC_BINS; k++) mean += norm[k];
  floor_power += REGULARISE * mean * (1.0f / AEC_BINS);
  for (int k = 0; k < AEC_BINS; k++) norm[k] += floor_power;
  const aec_spectrum *xs = &st->x[(st->next + st->strongest) % parts];
  for (int k = 0; k < AEC_BINS; k++) {
    /* The error's coherence with the reference at the echo's strongest partition, per bin: echo the filter has
     * not learnt (a new tone, a new note) is coherent with it, a talker is not. */
    float xr = xs->re[k], xi = xs->im[k], er = st->e.re[k], ei = st->e.im[k];
    st->cxe_re[k] += COH_RATE * (xr * er + xi * ei - st->cxe_re[k]);
    st->cxe_im[k] += COH_RATE * (xr * ei - xi * er - st->cxe_im[k]);
    st->cxx[k] += COH_RATE * (xr * xr + xi * xi - st->cxx[k]);
    st->cee[k] += COH_RATE * (er * er + ei * ei - st->cee[k]);
    float c = (st->cxe_re[k] * st->cxe_re[k] + st->cxe_im[k] * st->cxe_im[k]) / (st->cxx[k] * st->cee[k] + 1);
    c = c > COH_CHANCE ? (c - COH_CHANCE) / (1 - COH_CHANCE) : 0;
    float ep = power(&st->e, k), r = st->leak * power(&y, k);
    float mu = mu_start;
    if (st->adapted && far_active) {
      mu = r < MU_MAX * (ep + 1) ? r / (ep + 1) : MU_MAX;
      if (MU_COHERENT * c > mu) mu = MU_COHERENT * c;
    }
    /* For the suppressor: the residual echo is the leak's share of the echo estimate, or the error's share
     * coherent with the reference, whichever is more (x2: its spectrum is of two blocks, this one of one). */
    st->residual[k] = 2 * (r > c * ep ? r : c * ep);
    float scale = mu / norm[k];
    st->e.re[k] *= scale;                 /* the error spectrum becomes the step G */
    st->e.im[k] *= scale;
  }
  if (!st->adapted) {
    st->sum_adapt += mu_start;
    if (st->sum_adapt > ADAPT_BLOCKS * parts) st->adapted = 1;
  }

  /* W_p += gain_p G conj(X_p) (G in st->e); one partition per block also gets its taps' second half cut (the gradient
   * constraint that keeps the convolution linear, spread over blocks as in alternating MDF). */
  if (far_active) {
    for (int p = 0; p < parts; p++) {
      const aec_spectrum *xp = &st->x[(st->next + p) % parts];
      aec_spectrum *wp = &st->w[p];
      float gp = st->gain[p];
      for (int k = 0; k < AEC_BINS; k++) {
        float gr = gp * st->e.re[k], gi = gp * st->e.im[k];
        wp->re[k] += gr * xp->re[k] + gi * xp->im[k];
        wp->im[k] += gi * xp->re[k] - gr * xp->im[k];
      }
    }
    aec_spectrum *wc = &st->w[st->constrain];
    fft_inverse(&st->fft, wc->re, wc->im, st->time);
    for (int i = AEC_BLOCK; i < AEC_FFT; i++) st->time[i] = 0;
    fft_forward(&st->fft, st->time, wc->re, wc->im);
    st->constrain = (st->constrain + 1) % parts;
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
    if (st->suppress) suppress_block(&st->post, &st->fft, e, st->residual, e);
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
