/* A real FFT of a fixed power-of-two size, made once at init (tables in the struct), no allocation:
 * N real samples <-> N/2 + 1 complex bins, through one N/2-point complex radix-2 FFT. The inverse is scaled
 * by 1/N so that inverse(forward(x)) == x. */
#ifndef DSP_FFT_H
#define DSP_FFT_H

#define FFT_MAX 512          /* largest real size */
#define FFT_MAX_HALF (FFT_MAX / 2)

typedef struct {
  int n;                     /* real size */
  int half;                  /* n / 2: the complex FFT's size */
  float cos_half[FFT_MAX_HALF / 2], sin_half[FFT_MAX_HALF / 2];   /* twiddles of the half-size FFT */
  float cos_n[FFT_MAX_HALF + 1], sin_n[FFT_MAX_HALF + 1];         /* e^{-2 pi i k / n}, k = 0..n/2 */
  unsigned short bitrev[FFT_MAX_HALF];
  float zr[FFT_MAX_HALF], zi[FFT_MAX_HALF];                       /* work area */
} fft_plan;

/* 0 on success, -1 if n is not a power of two in 4..FFT_MAX. */
int fft_init(fft_plan *plan, int n);
/* x[n] -> re[n/2 + 1], im[n/2 + 1]. */
void fft_forward(fft_plan *plan, const float *x, float *re, float *im);
/* re, im[n/2 + 1] (the spectrum of a real signal) -> x[n]. */
void fft_inverse(fft_plan *plan, const float *re, const float *im, float *x);

/* sin and cos in double for the tables (no libm: the WebAssembly build is freestanding). */
void dsp_sincos(double x, double *s, double *c);
/* sqrt to float precision for levels and norms (no libm either). */
float dsp_sqrt(float x);

#endif
