// The C half of random.ts: fills bytes of an ArrayBuffer from the platform's cryptographic random source.
#include <stddef.h>
#include "xsmc.h"

#if defined(__linux__)
	#include <sys/random.h>
	static int fillRandom(void *to, size_t length) {
		while (length) {
			ssize_t got = getrandom(to, length, 0);
			if (got < 0) return -1;
			to = (char *)to + got;
			length -= (size_t)got;
		}
		return 0;
	}
#elif defined(__APPLE__)
	#include <stdlib.h>
	static int fillRandom(void *to, size_t length) { arc4random_buf(to, length); return 0; }
#elif defined(ESP_PLATFORM)
	#include <esp_random.h>
	static int fillRandom(void *to, size_t length) { esp_fill_random(to, length); return 0; }
#elif defined(__ZEPHYR__)
	#include <zephyr/random/random.h>
	static int fillRandom(void *to, size_t length) { return sys_csrand_get(to, length); }
#else
	#error "random.c: no cryptographic random source for this platform; give the board its TRNG (docs/porting.md)"
#endif

void xs_ais_random_fill(xsMachine *the)
{
	void *buffer;
	xsUnsignedValue size;
	xsIntegerValue offset = xsmcToInteger(xsArg(1));
	xsIntegerValue length = xsmcToInteger(xsArg(2));
	xsmcGetBufferWritable(xsArg(0), &buffer, &size);
	if ((offset < 0) || (length < 0) || ((xsUnsignedValue)offset + (xsUnsignedValue)length > size))
		xsRangeError("random: %d bytes at %d do not fit a buffer of %u", (int)length, (int)offset, (unsigned)size);
	if (fillRandom((char *)buffer + offset, (size_t)length))
		xsUnknownError("random: the random source failed");
}
