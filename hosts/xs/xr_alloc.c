/*
 * Counting allocator (see xr_alloc.h). Each block carries a 16-byte header holding its size, which keeps
 * the payload 16-byte aligned like glibc's malloc.
 */
#include <stdlib.h>
#include <string.h>
#include "xr_alloc.h"

xrAllocStats xrAlloc = { 0, 0, 0, 0, 0 };

#define XR_HEADER 16

static int xr_admit(size_t more)
{
	if (xrAlloc.cap && xrAlloc.current + more > xrAlloc.cap) {
		xrAlloc.failures++;
		return 0;
	}
	return 1;
}

static void xr_account(size_t added, size_t removed)
{
	xrAlloc.current = xrAlloc.current + added - removed;
	if (xrAlloc.peak < xrAlloc.current)
		xrAlloc.peak = xrAlloc.current;
}

void* xr_malloc(size_t size)
{
	unsigned char* block;
	if (!xr_admit(size))
		return NULL;
	block = malloc(XR_HEADER + size);
	if (!block) {
		xrAlloc.failures++;
		return NULL;
	}
	*(size_t*)block = size;
	xrAlloc.calls++;
	xr_account(size, 0);
	return block + XR_HEADER;
}

void* xr_calloc(size_t count, size_t size)
{
	void* result;
	if (size && count > ((size_t)-1 - XR_HEADER) / size)
		return NULL;
	result = xr_malloc(count * size);
	if (result)
		memset(result, 0, count * size);
	return result;
}

void xr_free(void* pointer)
{
	unsigned char* block;
	if (!pointer)
		return;
	block = (unsigned char*)pointer - XR_HEADER;
	xr_account(0, *(size_t*)block);
	free(block);
}

void* xr_realloc(void* pointer, size_t size)
{
	unsigned char* block;
	size_t old;
	if (!pointer)
		return xr_malloc(size);
	block = (unsigned char*)pointer - XR_HEADER;
	old = *(size_t*)block;
	if (size > old && !xr_admit(size - old))
		return NULL;
	block = realloc(block, XR_HEADER + size);
	if (!block) {
		xrAlloc.failures++;
		return NULL;
	}
	*(size_t*)block = size;
	xrAlloc.calls++;
	xr_account(size, old);
	return block + XR_HEADER;
}

void xr_alloc_reset_peak(void)
{
	xrAlloc.peak = xrAlloc.current;
}
