/* Bench image for the Cortex-M7 emulation: native/dsp/aec.c, then kws.c (the wake word), over the frames
 * bench/dsp-m7.ts generated
 * (the simulated room's microphone and the speaker reference, linked in as C arrays), timed per frame with
 * the board's clock. Under QEMU -icount shift=0 a virtual nanosecond is one guest instruction, so the
 * clock difference in ns is the frame's instruction count (to the SysTick's 40 ns). Linked with the
 * firmware image's startup and board layer (hosts/cortex-m), which call main(). */
#include <stdio.h>
#include "aec.h"
#include "kws.h"
#include "xr_runner.h"

double xrClockMs(void);
xrRunner xrRun;                      /* the board layer sets its C stack field; no engine here */
void UART1_RX_Handler(void) {}       /* the vector table names the link's handler (netlink.c); no link here, never enabled */

extern const int16_t bench_mic[], bench_ref[];
extern const int bench_frames, bench_taps, bench_suppress;

static aec_state state;
static kws_state kws;
static int16_t out[320];

static unsigned long instructions(double from_ms, double to_ms) { return (unsigned long)((to_ms - from_ms) * 1e6 + 0.5); }

/* The board's start-up asks for a prepared XS machine (hosts/cortex-m/prepared.c); this bench image runs bare C and
 * has none, so the command line stays as it is. */
int board_prepare_option(int argc, char **argv) {
  (void)argv;
  return argc;
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  double t0 = xrClockMs();
  if (aec_init(&state, 320, bench_taps)) return 1;
  aec_set_suppress(&state, bench_suppress);
  unsigned long init = instructions(t0, xrClockMs());
  /* The clock read itself, to subtract. */
  t0 = xrClockMs();
  unsigned long overhead = instructions(t0, xrClockMs());
  unsigned long long sum = 0;
  unsigned long max = 0;
  double in_energy = 0, out_energy = 0;
  for (int f = 0; f < bench_frames; f++) {
    double a = xrClockMs();
    aec_process(&state, bench_mic + f * 320, bench_ref + f * 320, out);
    unsigned long n = instructions(a, xrClockMs()) - overhead;
    sum += n;
    if (n > max) max = n;
    if (f >= bench_frames / 2) {
      for (int i = 0; i < 320; i++) {
        in_energy += (double)bench_mic[f * 320 + i] * bench_mic[f * 320 + i];
        out_energy += (double)out[i] * out[i];
      }
    }
  }
  printf("aec-m7 taps=%d frames=%d init=%lu mean=%lu max=%lu state_bytes=%u in_energy=%lu out_energy=%lu\n", bench_taps, bench_frames, init,
         (unsigned long)(sum / (unsigned long long)bench_frames), max, (unsigned)sizeof state, (unsigned long)(in_energy / 1e3), (unsigned long)(out_energy / 1e3));
  t0 = xrClockMs();
  if (kws_init(&kws)) return 1;
  init = instructions(t0, xrClockMs());
  sum = 0;
  max = 0;
  for (int f = 0; f < bench_frames; f++) {
    double a = xrClockMs();
    kws_process(&kws, bench_mic + f * 320);
    unsigned long n = instructions(a, xrClockMs()) - overhead;
    sum += n;
    if (n > max) max = n;
  }
  printf("kws-m7 frames=%d init=%lu mean=%lu max=%lu state_bytes=%u\n", bench_frames, init, (unsigned long)(sum / (unsigned long long)bench_frames), max, (unsigned)sizeof kws);
  return 0;
}
