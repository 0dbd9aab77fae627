/*
 * xsrun platform header: the engine's view of our host (XSPLATFORM for the XS sources).
 *
 * Written for an MCU-shaped host: one thread, no POSIX threads or GCC atomics in the engine (it falls
 * back to its single-threaded shared-chunk code), every engine allocation through the counting
 * allocator (xr_alloc.c), our own C stack limit, short paths. Only the Linux front end (main.c) uses
 * the C library beyond memory, strings, math and time.
 */
#ifndef XSRUN_PLATFORM_H
#define XSRUN_PLATFORM_H

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

/* Engine defaults we keep: key building and the single-threaded shared chunks (SharedArrayBuffer). */
#define mxUseDefaultBuildKeys 1
#define mxUseDefaultSharedChunks 1
/* Everything else is ours (xr_platform.c). */
#define mxUseDefaultCStackLimit 0

/* Per-machine host state: the host pointer the public API expects and the promise-job flag. */
#define mxMachinePlatform \
	void* host; \
	int xrPromiseJobs;

/* Counting allocator: every c_malloc of the engine and the parser is measured. */
extern void* xr_malloc(size_t size);
extern void* xr_calloc(size_t count, size_t size);
extern void* xr_realloc(void* pointer, size_t size);
extern void xr_free(void* pointer);
#define c_malloc xr_malloc
#define c_calloc xr_calloc
#define c_realloc xr_realloc
#define c_free xr_free
#define c_malloc_uint32 xr_malloc
#define c_free_uint32 xr_free

/* Wall time for Date; an MCU port supplies its RTC here. */
typedef struct timeval c_timeval;
struct c_timezone { int tz_minuteswest; int tz_dsttime; };
extern int xr_gettimeofday(c_timeval* tv, struct c_timezone* tz);
#define c_gettimeofday xr_gettimeofday

/* Module keys are project-relative paths ("build/src/mqtt/parser.js"): short on purpose. */
#define C_PATH_MAX 256

#endif /* XSRUN_PLATFORM_H */
