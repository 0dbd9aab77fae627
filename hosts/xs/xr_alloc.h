/*
 * Counting allocator behind c_malloc/c_calloc/c_realloc/c_free: what the engine and its parser take from
 * the C heap, as an MCU's malloc would see it. An optional cap makes allocations fail as on a small part.
 */
#ifndef XR_ALLOC_H
#define XR_ALLOC_H

#include <stddef.h>

typedef struct {
	size_t current;     /* bytes live now (payload, without our header) */
	size_t peak;        /* highest `current` since start or the last xr_alloc_reset_peak() */
	size_t cap;         /* 0: no cap; else an allocation that would take `current` above it fails */
	unsigned long calls;    /* successful malloc/calloc/realloc calls */
	unsigned long failures; /* allocations refused by the cap or by the system */
} xrAllocStats;

extern xrAllocStats xrAlloc;

void xr_alloc_reset_peak(void);

#endif
