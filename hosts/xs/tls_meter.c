/*
 * What TLS costs in RAM, measured on xsrun (make -f hosts/xs/Makefile tls-meter: build/xs/xsrun-tls-meter, used by
 * bench/cortex-m-ram.ts): the image offloads TLS to its co-processor, so these are the bytes an on-MCU TLS would add.
 *
 * Heap: that build links Debian's static mbedTLS with its calloc and free renamed to the two functions below
 * (objcopy --redefine-sym), so exactly mbedTLS's own allocations are counted: record buffers, contexts, the parsed
 * certificates, the handshake's bignums. Stack: the calls io_tls.c makes into mbedTLS are wrapped at link time
 * (--wrap); each wrapper paints the stack below it, calls mbedTLS and finds the deepest byte it wrote.
 * At exit, or on SIGTERM (how the bench ends a device), one line on stderr: `xsrun tls-meter: {JSON}`.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>

/* Deeper than any mbedTLS path (the handshake's RSA and ECDHE take a few KB). */
#define METER_STACK (64 * 1024)
#define METER_PAINT 0x5A
#define METER_HEADER 16

static struct {
	size_t current, peak, largest;
	unsigned long allocations, handshakes, records;
	size_t stackPeak;
	const char* deepest;
	int reported;
} meter;

/* The painted area's address, kept as a number: the frame that held it is gone, the stack under it is not. */
static uintptr_t paintedArea;

static void meterReport(void)
{
	fprintf(stderr, "xsrun tls-meter: {\"heapPeak\":%lu,\"heapLive\":%lu,\"largestAllocation\":%lu,\"allocations\":%lu,"
		"\"handshakes\":%lu,\"recordCalls\":%lu,\"stackPeak\":%lu,\"deepestCall\":\"%s\",\"inContentLen\":%d,\"outContentLen\":%d,"
		"\"sslContext\":%lu,\"sslConfig\":%lu,\"x509Crt\":%lu,\"pkContext\":%lu,\"ctrDrbg\":%lu,\"entropy\":%lu}\n",
		(unsigned long)meter.peak, (unsigned long)meter.current, (unsigned long)meter.largest, meter.allocations,
		meter.handshakes, meter.records, (unsigned long)meter.stackPeak, meter.deepest ? meter.deepest : "",
		MBEDTLS_SSL_IN_CONTENT_LEN, MBEDTLS_SSL_OUT_CONTENT_LEN,
		(unsigned long)sizeof(mbedtls_ssl_context), (unsigned long)sizeof(mbedtls_ssl_config),
		(unsigned long)sizeof(mbedtls_x509_crt), (unsigned long)sizeof(mbedtls_pk_context),
		(unsigned long)sizeof(mbedtls_ctr_drbg_context), (unsigned long)sizeof(mbedtls_entropy_context));
}

/* A meter's shortcut: stdio in a signal handler, acceptable in a measuring build that ends right after. */
static void meterTerminated(int signal)
{
	meterReport();
	_exit(128 + signal);
}

void* xr_tls_meter_calloc(size_t count, size_t size)
{
	unsigned char* block;
	size_t bytes;
	if (size && count > ((size_t)-1 - METER_HEADER) / size)
		return NULL;
	bytes = count * size;
	block = calloc(1, METER_HEADER + bytes);
	if (!block)
		return NULL;
	if (!meter.reported) {
		meter.reported = 1;
		atexit(meterReport);
		signal(SIGTERM, meterTerminated);
	}
	*(size_t*)block = bytes;
	meter.allocations++;
	meter.current += bytes;
	if (meter.peak < meter.current)
		meter.peak = meter.current;
	if (meter.largest < bytes)
		meter.largest = bytes;
	return block + METER_HEADER;
}

void xr_tls_meter_free(void* pointer)
{
	unsigned char* block;
	if (!pointer)
		return;
	block = (unsigned char*)pointer - METER_HEADER;
	meter.current -= *(size_t*)block;
	free(block);
}

/* Its own frame, so the area is stack that the wrapped call will reuse once this returns. */
static __attribute__((noinline)) void meterPaint(void)
{
	volatile unsigned char area[METER_STACK];
	size_t i;
	for (i = 0; i < METER_STACK; i++)
		area[i] = METER_PAINT;
	paintedArea = (uintptr_t)area;
}

static __attribute__((noinline)) void meterMeasure(const char* call)
{
	volatile unsigned char* area = (volatile unsigned char*)paintedArea;
	size_t i = 0;
	while (i < METER_STACK && area[i] == METER_PAINT)
		i++;
	if (meter.stackPeak < METER_STACK - i) {
		meter.stackPeak = METER_STACK - i;
		meter.deepest = call;
	}
}

int __real_mbedtls_ssl_handshake(mbedtls_ssl_context* ssl);
int __real_mbedtls_ssl_read(mbedtls_ssl_context* ssl, unsigned char* buffer, size_t length);
int __real_mbedtls_ssl_write(mbedtls_ssl_context* ssl, const unsigned char* buffer, size_t length);
int __real_mbedtls_ssl_close_notify(mbedtls_ssl_context* ssl);

int __wrap_mbedtls_ssl_handshake(mbedtls_ssl_context* ssl)
{
	int result;
	meterPaint();
	result = __real_mbedtls_ssl_handshake(ssl);
	meterMeasure("mbedtls_ssl_handshake");
	if (result == 0)
		meter.handshakes++;
	return result;
}

int __wrap_mbedtls_ssl_read(mbedtls_ssl_context* ssl, unsigned char* buffer, size_t length)
{
	int result;
	meterPaint();
	result = __real_mbedtls_ssl_read(ssl, buffer, length);
	meterMeasure("mbedtls_ssl_read");
	meter.records++;
	return result;
}

int __wrap_mbedtls_ssl_write(mbedtls_ssl_context* ssl, const unsigned char* buffer, size_t length)
{
	int result;
	meterPaint();
	result = __real_mbedtls_ssl_write(ssl, buffer, length);
	meterMeasure("mbedtls_ssl_write");
	meter.records++;
	return result;
}

int __wrap_mbedtls_ssl_close_notify(mbedtls_ssl_context* ssl)
{
	int result;
	meterPaint();
	result = __real_mbedtls_ssl_close_notify(ssl);
	meterMeasure("mbedtls_ssl_close_notify");
	return result;
}
