#include "fft.h"

#define PI 3.14159265358979323846

/* Taylor series after reducing x to [-pi, pi]: exact to double rounding there; only used at init. */
void dsp_sincos(double x, double *s, double *c) {
  while (x > PI) x -= 2 * PI;
  while (x < -PI) x += 2 * PI;
  double term_s = x, term_c = 1, sum_s = x, sum_c = 1, x2 = x * x;
  for (int k = 1; k < 30; k++) {
    term_s *= -x2 / ((2 * k) * (2 * k + 1));
    term_c *= -x2 / ((2 * k - 1) * (2 * k));
    sum_s += term_s;
    sum_c += term_c;
  }
  *s = sum_s;
  *c = sum_c;
}

/* sqrt by Newton from a bit-level guess (the WebAssembly build has no libm): the same bits on every build. */
float dsp_sqrt(float x) {
  if (x <= 0) return 0;
  union { float f; unsigned u; } v = { x };
  v.u = (v.u >> 1) + 0x1fc00000u;
  float r = v.f;
  for (int i = 0; i < 3; i++) r = 0.5f * (r + x / r);
  return r;
}

int fft_init(fft_plan *p, int n) {
  if (n < 4 || n > FFT_MAX || (n & (n - 1))) return -1;
  p->n = n;
  p->half = n / 2;
  int m = p->half, bits = 0;
  while ((1 << bits) < m) bits++;
  for (int i = 0; i < m; i++) {
    int r = 0;
    for (int b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    p->bitrev[i] = (unsigned short)r;
  }
  for (int k = 0; k < m / 2; k++) {
    double s, c;
    dsp_sincos(-2 * PI * k / m, &s, &c);
    p->cos_half[k] = (float)c;
    p->sin_half[k] = (float)s;
  }
  for (int k = 0; k <= m; k++) {
    double s, c;
    dsp_sincos(-2 * PI * k / n, &s, &c);
    p->cos_n[k] = (float)c;
    p->sin_n[k] = (float)s;
  }
  return 0;
}

/* In place on zr, zi (already in bit-reversed order); sign -1 forward, +1 inverse (unscaled). */
static void complex_fft(fft_plan *p, int sign) {
  int m = p->half;
  float *zr = p->zr, *zi = p->zi;
  for (int len = 2; len <= m; len <<= 1) {
    int step = m / len, h = len >> 1;
    for (int start = 0; start < m; start += len) {
      for (int j = 0; j < h; j++) {
        float wr = p->cos_half[j * step], wi = sign < 0 ? p->sin_half[j * step] : -p->sin_half[j * step];
        int a = start + j, b = a + h;
        float tr = zr[b] * wr - zi[b] * wi;
        float ti = zr[b] * wi + zi[b] * wr;
        zr[b] = zr[a] - tr;
        zi[b] = zi[a] - ti;
        zr[a] += tr;
        zi[a] += ti;
      }
    }
  }
}

void fft_forward(fft_plan *p, const float *x, float *re, float *im) {
  int m = p->half;
  for (int i = 0; i < m; i++) {
    int r = p->bitrev[i];
    p->zr[r] = x[2 * i];
    p->zi[r] = x[2 * i + 1];
  }
  complex_fft(p, -1);
  /* Even and odd samples' spectra from Z: Fe = (Z[k] + conj Z[m-k]) / 2, Fo = (Z[k] - conj Z[m-k]) / 2i. */
  for (int k = 0; k <= m; k++) {
    int a = k == m ? 0 : k, b = k == 0 ? 0 : m - k;
    float ar = p->zr[a], ai = p->zi[a], br = p->zr[b], bi = -p->zi[b];
    float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    float or_ = 0.5f * (ai - bi), oi = -0.5f * (ar - br);
    float wr = p->cos_n[k], wi = p->sin_n[k];
    re[k] = er + or_ * wr - oi * wi;
    im[k] = ei + or_ * wi + oi * wr;
  }
}

void fft_inverse(fft_plan *p, const float *re, const float *im, float *x) {
  int m = p->half;
  /* X[k + m] = conj X[m - k]; Fe = (X[k] + X[k+m]) / 2, Fo = (X[k] - X[k+m]) e^{+2 pi i k / n} / 2, Z = Fe + i Fo. */
  for (int k = 0; k < m; k++) {
    float ar = re[k], ai = im[k], br = re[m - k], bi = -im[m - k];
    float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
    float dr = 0.5f * (ar - br), di = 0.5f * (ai - bi);
    float wr = p->cos_n[k], wi = -p->sin_n[k];
    float or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
    int r = p->bitrev[k];
    p->zr[r] = er - oi;
    p->zi[r] = ei + or_;
  }
  complex_fft(p, 1);
  float scale = 1.0f / m;
  for (int i = 0; i < m; i++) {
    x[2 * i] = p->zr[i] * scale;
    x[2 * i + 1] = p->zi[i] * scale;
  }
}
