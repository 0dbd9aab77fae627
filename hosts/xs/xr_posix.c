/*
 * The platform clock of xsrun on Linux (xr_host.h): CLOCK_MONOTONIC and nanosleep. The Cortex-M image has
 * its own (hosts/cortex-m/board.c: SysTick and WFI).
 */
#include <time.h>
#include "xr_host.h"

double xrClockMs(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6;
}

void xrSleepMs(double ms)
{
	struct timespec delay;
	delay.tv_sec = (time_t)(ms / 1000);
	delay.tv_nsec = (long)((ms - (double)delay.tv_sec * 1000) * 1e6);
	nanosleep(&delay, NULL);
}
