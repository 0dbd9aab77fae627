/* Bench anchor: Debian libspeexdsp's echo canceller over raw 16-bit files, frame by frame, as the bench
 * feeds ours; with "pp", its preprocessor after it (residual echo suppression on, as speexdsp pairs them; its
 * other defaults: noise suppression on, no AGC). Usage: speex-aec FRAME TAPS RATE mic.raw ref.raw out.raw [pp].
 * Built at bench time (gcc -lspeexdsp). */
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 7 && !(argc == 8 && strcmp(argv[7], "pp") == 0)) {
    fprintf(stderr, "usage: speex-aec FRAME TAPS RATE mic.raw ref.raw out.raw [pp]\n");
    return 2;
  }
  int frame = atoi(argv[1]), taps = atoi(argv[2]), rate = atoi(argv[3]);
  FILE *mic = fopen(argv[4], "rb"), *ref = fopen(argv[5], "rb"), *out = fopen(argv[6], "wb");
  if (!mic || !ref || !out) {
    perror("speex-aec");
    return 1;
  }
  SpeexEchoState *st = speex_echo_state_init(frame, taps);
  speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
  SpeexPreprocessState *pp = argc == 8 ? speex_preprocess_state_init(frame, rate) : NULL;
  if (pp) speex_preprocess_ctl(pp, SPEEX_PREPROCESS_SET_ECHO_STATE, st);
  spx_int16_t *m = malloc(frame * 2), *r = malloc(frame * 2), *e = malloc(frame * 2);
  while (fread(m, 2, frame, mic) == (size_t)frame && fread(r, 2, frame, ref) == (size_t)frame) {
    speex_echo_cancellation(st, m, r, e);
    if (pp) speex_preprocess_run(pp, e);
    fwrite(e, 2, frame, out);
  }
  if (pp) speex_preprocess_state_destroy(pp);
  speex_echo_state_destroy(st);
  fclose(out);
  return 0;
}
