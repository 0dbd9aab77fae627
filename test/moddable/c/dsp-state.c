/* native/dsp as a Moddable build sizes it (hosts/moddable/dsp/ais_dsp_config.h from the manifest's defines): the
 * canceller's bound, the state of each kind, and what the bindings' shared checks (native/dsp_check.c) answer a
 * 1,024-tap and a 2,048-tap filter. */
#include <stdio.h>
#include "dsp_check.h"

static aec_state aec;

int main(void)
{
	char reason[DSP_REASON_BYTES];
	printf("partitions=%d aec=%zu kws=%zu\n", AEC_MAX_PARTITIONS, sizeof(aec_state), sizeof(kws_state));
	for (int taps = 1024; taps <= 2048; taps *= 2)
		printf("%d: %s\n", taps, dsp_aec_init_checked(&aec, 320, taps, reason) ? reason : "ok");
	return 0;
}
