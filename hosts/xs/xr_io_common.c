/*
 * The helpers of xr_io.h every host's natives use, portable C over the XS API: xsrun links it with xr_io.c
 * (POSIX), the Cortex-M image with hosts/cortex-m/netlink.c (the co-processor link).
 */
#include <stdio.h>
#include <stdlib.h>
#include "xr_io.h"
#include "xr_runner.h"

void xrIoDefine(xsMachine* the, xsSlot* target, int index, const char* name, xsCallback callback, int length)
{
	xsVar(index) = xsNewHostFunction(callback, length);
	xsSet(*target, xsID(name), xsVar(index));
}

unsigned char* xrIoBytes(xsMachine* the, int argument, size_t* length)
{
	xsIntegerValue offset = xsToInteger(xsArg(argument + 1));
	xsIntegerValue count = xsToInteger(xsArg(argument + 2));
	xsIntegerValue size = xsGetArrayBufferLength(xsArg(argument));
	if (offset < 0 || count < 0 || offset + count > size)
		xsRangeError("bytes %d..%d outside an ArrayBuffer of %d", (int)offset, (int)(offset + count), (int)size);
	*length = (size_t)count;
	return (unsigned char*)xsToArrayBuffer(xsArg(argument)) + offset;
}

void xrIoReportUncaught(xsMachine* the, const char* where)
{
	char prefix[96];
	snprintf(prefix, sizeof prefix, "xsrun: uncaught exception in %s: ", where);
	xrPrintException(the, prefix);
	fflush(stdout);
	fflush(stderr);
	exit(1);
}
