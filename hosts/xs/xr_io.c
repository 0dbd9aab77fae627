/*
 * The I/O side of xsrun's run loop on POSIX: installs `xsrun.io` (the natives of hosts/xs/io/ modules) and waits
 * for socket events with poll(2) where the loop would otherwise sleep. xr_host.c calls xrIoInstall and
 * xrIoWait through weak symbols, so the Cortex-M image, which links neither this file nor the io_*.c natives,
 * keeps its plain sleep. The helpers the natives share with the image's are in xr_io_common.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/random.h>
#include "xr_io.h"
#include "xr_runner.h"

/* random(arrayBuffer, offset, length): the kernel's CSPRNG, the TRNG a board would give the crypto port. */
static void xr_io_random(xsMachine* the)
{
	size_t length, done = 0;
	unsigned char* data = xrIoBytes(the, 0, &length);
	while (done < length) {
		ssize_t n = getrandom(data + done, length - done, 0);
		if (n < 0)
			xsUnknownError("getrandom failed");
		done += (size_t)n;
	}
}

/* kill(): the process dies by SIGKILL at once, as at a power cut (the storage crash tests stop a writer so). */
static void xr_io_kill(xsMachine* the)
{
	fflush(stdout);
	raise(SIGKILL);
}

/* Installers of the natives: TLS only when the build found libmbedtls-dev (io_tls.c). */
extern void xrIoInstallTls(xsMachine* the, xsSlot* target) __attribute__((weak));

void xrIoInstall(xsMachine* the)
{
	xsBeginHost(the);
	{
		xsVars(XR_IO_SCRATCH + 1);
		xsVar(0) = xsGet(xsGlobal, xsID("xsrun"));
		xsVar(1) = xsNewObject();
		xsSet(xsVar(0), xsID("io"), xsVar(1));
		xrIoDefine(the, &xsVar(1), XR_IO_SCRATCH, "random", xr_io_random, 3);
		xrIoDefine(the, &xsVar(1), XR_IO_SCRATCH, "kill", xr_io_kill, 0);
		xsVar(2) = xsNewObject();
		xsSet(xsVar(1), xsID("tcp"), xsVar(2));
		xrIoInstallTcp(the, &xsVar(2));
		if (xrIoInstallTls) {
			xsVar(2) = xsNewObject();
			xsSet(xsVar(1), xsID("tls"), xsVar(2));
			xrIoInstallTls(the, &xsVar(2));
		}
		xsVar(2) = xsNewObject();
		xsSet(xsVar(1), xsID("files"), xsVar(2));
		xrIoInstallFiles(the, &xsVar(2));
		xsVar(2) = xsNewObject();
		xsSet(xsVar(1), xsID("audio"), xsVar(2));
		xrIoInstallAudio(the, &xsVar(2));
	}
	xsEndHost(the);
}
