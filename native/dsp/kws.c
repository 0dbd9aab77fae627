#include "kws.h"
#include "kws_weights.h"

#define PI 3.14159265358979323846

float dsp_log2f(float x) {
  union { float f; uint32_t u; } v = { x };
  int exponent = (int)((v.u >> 23) & 0xff) - 127;
  v.u = (v.u & 0x007fffff) | 0x3f800000;         /* mantissa in [1, 2) */
  /* ln(1 + m) = 2 atanh(t), t = m / (2 + m) in [0, 1/3): four terms leave < 3e-6. */
  float m = v.f - 1, t = m / (2 + m), t2 = t * t;
  float ln = 2 * t * (1 + t2 * (1.0f / 3 + t2 * (1.0f / 5 + t2 * (1.0f / 7))));
  return (float)exponent + ln * 1.44269504f;
}

/* exp for the init-time mel scale (double, Taylor after halving). */
static double exp_d(double x) {
  int halvings = 0;
  while (x > 0.5 || x < -0.5) { x /= 2; halvings++; }
  double term = 1, sum = 1;
  for (int k = 1; k < 20; k++) { term *= x / k; sum += term; }
  while (halvings--) sum *= sum;
  return sum;
}

static double log_d(double x) {      /* Newton on exp_d, init only */
  double y = dsp_log2f((float)x) * 0.69314718055994530942;
  for (int i = 0; i < 4; i++) y -= 1 - x / exp_d(y);
  return y;
}

static double mel(double hz) { return 1127.0 * log_d(1 + hz / 700); }
static double hz(double m) { return 700 * (exp_d(m / 1127.0) - 1); }

int kws_init(kws_state *st) {
  if (fft_init(&st->fft, KWS_WINDOW)) return -1;
  for (int i = 0; i < KWS_WINDOW; i++) {
    double s, c;
    dsp_sincos(2 * PI * (i + 0.5) / KWS_WINDOW, &s, &c);
    st->window[i] = (float)(0.5 - 0.5 * c);
  }
  /* Triangular mel bands that meet edge to edge: a bin between two edges is in one band's rising and the
   * previous band's falling slope, weights summing to 1; kept per bin so a frame costs no division. */
  float edge[KWS_BANDS + 2];
  double lo = mel(100), hi = mel(7600);
  for (int b = 0; b < KWS_BANDS + 2; b++) edge[b] = (float)(hz(lo + (hi - lo) * b / (KWS_BANDS + 1)) * KWS_WINDOW / 16000.0);
  for (int k = 0; k < KWS_BINS; k++) {
    st->segment[k] = -1;
    st->rise[k] = 0;
    for (int s = 0; s <= KWS_BANDS; s++) {
      if (!(k > edge[s] && k <= edge[s + 1])) continue;
      st->segment[k] = (int8_t)s;
      st->rise[k] = (k - edge[s]) / (edge[s + 1] - edge[s]);
    }
  }
  kws_reset(st);
  return 0;
}

void kws_reset(kws_state *st) {
  for (int i = 0; i < KWS_WINDOW; i++) st->history[i] = 0;
  for (int f = 0; f < KWS_CONTEXT; f++)
    for (int b = 0; b < KWS_BANDS; b++) st->features[f][b] = 0;
  st->newest = KWS_CONTEXT - 1;
  st->frames = 0;
  st->score = 0;
}

void kws_features(kws_state *st, const int16_t *frame, float *out) {
  for (int i = 0; i < KWS_WINDOW - KWS_FRAME; i++) st->history[i] = st->history[i + KWS_FRAME];
  for (int i = 0; i < KWS_FRAME; i++) st->history[KWS_WINDOW - KWS_FRAME + i] = frame[i];
  float *time = st->work.fft.time, *re = st->work.fft.re, *im = st->work.fft.im;
  for (int i = 0; i < KWS_WINDOW; i++) time[i] = st->history[i] * st->window[i];
  fft_forward(&st->fft, time, re, im);
  st->newest = (st->newest + 1) % KWS_CONTEXT;
  float *f = st->features[st->newest];
  for (int b = 0; b < KWS_BANDS; b++) f[b] = 0;
  for (int k = 0; k < KWS_BINS; k++) {
    int s = st->segment[k];
    if (s < 0) continue;
    float power = re[k] * re[k] + im[k] * im[k];
    if (s < KWS_BANDS) f[s] += st->rise[k] * power;
    if (s > 0) f[s - 1] += (1 - st->rise[k]) * power;
  }
  for (int b = 0; b < KWS_BANDS; b++) f[b] = dsp_log2f(f[b] + 1.0f);
  st->frames++;
  if (out) for (int b = 0; b < KWS_BANDS; b++) out[b] = f[b];
}

float kws_process(kws_state *st, const int16_t *frame) {
  kws_features(st, frame, 0);
  /* The last second, oldest first, KWS_POOL frames summed per step. Floored KWS_RANGE under its loudest value, so
   * digital silence, a quiet room and a noisy one look alike; each band minus its mean over the second: the
   * network sees how the spectrum moves, not the loudness nor the colour of the voice, room and microphone. */
  float peak = -1e30f, mean[KWS_BANDS];
  for (int t = 0; t < KWS_STEPS; t++) {
    float *in = st->work.pooled + t * KWS_BANDS;
    for (int b = 0; b < KWS_BANDS; b++) in[b] = 0;
    for (int p = 0; p < KWS_POOL; p++) {
      const float *f = st->features[(st->newest + 1 + t * KWS_POOL + p) % KWS_CONTEXT];
      for (int b = 0; b < KWS_BANDS; b++) in[b] += f[b];
    }
    for (int b = 0; b < KWS_BANDS; b++) if (in[b] > peak) peak = in[b];
  }
  float floor = peak - KWS_RANGE * KWS_POOL;
  for (int b = 0; b < KWS_BANDS; b++) mean[b] = 0;
  for (int i = 0; i < KWS_INPUTS; i++) {
    if (st->work.pooled[i] < floor) st->work.pooled[i] = floor;
    mean[i % KWS_BANDS] += st->work.pooled[i];
  }
  for (int b = 0; b < KWS_BANDS; b++) mean[b] /= KWS_STEPS;
  /* In 1/KWS_INPUT_ONE of a log2 unit per frame: |x| < KWS_RANGE * KWS_INPUT_ONE fits int16, and the int8 × int16
   * dot products below fit int32 (KWS_INPUTS × 127 × 3072 < 2^31). */
  for (int i = 0; i < KWS_INPUTS; i++) {
    float x = (st->work.pooled[i] - mean[i % KWS_BANDS]) * ((float)KWS_INPUT_ONE / KWS_POOL);
    st->input[i] = (int16_t)(x < 0 ? x - 0.5f : x + 0.5f);
  }
  float out = kws_b2;
  for (int h = 0; h < KWS_HIDDEN; h++) {
    const int8_t *w = kws_w1[h];
    int32_t acc = 0;
    for (int i = 0; i < KWS_INPUTS; i++) acc += w[i] * st->input[i];
    float z = (float)acc * kws_w1_scale[h] + kws_b1[h];
    st->hidden[h] = z > 0 ? z : 0;
    out += kws_w2[h] * st->hidden[h];
  }
  st->score = (float)(1 / (1 + exp_d(-out)));
  return st->score;
}
