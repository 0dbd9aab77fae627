/*
 * xsrun host functions and run loop, on the public XS API (xs.h).
 *
 * Globals: print(...) and an `xsrun` object with what the prelude (prelude.js) and the benchmarks need:
 * now() (monotonic ms), gc(), memory(), resetPeaks(), write()/writeError() (no newline), exit(code),
 * exitCode, args, setDriver(fn), and facts about this machine. Timers, console and the rest of the host
 * surface are JavaScript in the prelude, over these.
 *
 * Run loop: drain promise jobs, then call the prelude's driver, which fires one due timer (returns 0),
 * says how long until the next one (ms), or -1 when nothing keeps the loop alive. Draining between two
 * timer callbacks reproduces Node's ordering. The clock and the sleep are the platform's (xr_posix.c on
 * Linux; on the Cortex-M image, SysTick and WFI in hosts/cortex-m/board.c).
 */
#include "xs.h"
#include "xr_alloc.h"
#include "xr_runner.h"
#include "xr_host.h"

/* Sockets and files (xr_io.c): linked into xsrun, absent from the Cortex-M image. */
extern void xrIoInstall(xsMachine* the) __attribute__((weak));
extern int xrIoWait(xsMachine* the, double ms) __attribute__((weak));

static xsSlot xrDriver;
static int xrHasDriver = 0;
static int xrImportState = 0;

/* Writes an engine string as UTF-8. With CESU-8 strings a character beyond U+FFFF is two 3-byte
   surrogates (ED A0..AF xx, ED B0..BF xx) and NUL is C0 80: join and undo them for the terminal. */
static void xrPut(FILE* file, const char* text)
{
	const unsigned char* p = (const unsigned char*)text;
	while (*p) {
		if (p[0] == 0xED && (p[1] & 0xF0) == 0xA0 && p[2] && p[3] == 0xED && (p[4] & 0xF0) == 0xB0 && p[5]) {
			unsigned high = ((p[1] & 0x0F) << 6) | (p[2] & 0x3F);
			unsigned low = ((p[4] & 0x0F) << 6) | (p[5] & 0x3F);
			unsigned code = 0x10000 + (high << 10) + low;
			fputc(0xF0 | (code >> 18), file);
			fputc(0x80 | ((code >> 12) & 0x3F), file);
			fputc(0x80 | ((code >> 6) & 0x3F), file);
			fputc(0x80 | (code & 0x3F), file);
			p += 6;
		}
		else if (p[0] == 0xC0 && p[1] == 0x80) {
			fputc(0, file);
			p += 2;
		}
		else
			fputc(*p++, file);
	}
}

static void xr_print(xsMachine* the)
{
	xsIntegerValue count = xsToInteger(xsArgc), i;
	for (i = 0; i < count; i++) {
		if (i)
			fputc(' ', stdout);
		xrPut(stdout, xsToString(xsArg(i)));
	}
	fputc('\n', stdout);
}

static void xr_write(xsMachine* the)
{
	xrPut(stdout, xsToString(xsArg(0)));
}

static void xr_writeError(xsMachine* the)
{
	fflush(stdout);
	xrPut(stderr, xsToString(xsArg(0)));
}

static void xr_now(xsMachine* the)
{
	xsResult = xsNumber(xrClockMs());
}

static void xr_gc(xsMachine* the)
{
	xsCollectGarbage();
}

static void xrSetNumber(xsMachine* the, xsSlot* object, const char* name, double value)
{
	xsSet(*object, xsID(name), xsNumber(value));
}

static void xr_memory(xsMachine* the)
{
	xrMachineMemory memory;
	xrGetMachineMemory(the, &memory);
	xsVars(2);
	xsResult = xsNewObject();
	xsVar(0) = xsNewObject();
	xrSetNumber(the, &xsVar(0), "current", (double)xrAlloc.current);
	xrSetNumber(the, &xsVar(0), "peak", (double)xrAlloc.peak);
	xrSetNumber(the, &xsVar(0), "calls", (double)xrAlloc.calls);
	xrSetNumber(the, &xsVar(0), "cap", (double)xrAlloc.cap);
	xsSet(xsResult, xsID("malloc"), xsVar(0));
	xsVar(0) = xsNewObject();
	xrSetNumber(the, &xsVar(0), "current", (double)memory.chunksCurrent);
	xrSetNumber(the, &xsVar(0), "peak", (double)memory.chunksPeak);
	xrSetNumber(the, &xsVar(0), "reserved", (double)memory.chunksReserved);
	xsSet(xsResult, xsID("chunks"), xsVar(0));
	xsVar(0) = xsNewObject();
	xrSetNumber(the, &xsVar(0), "current", (double)memory.slotsCurrent);
	xrSetNumber(the, &xsVar(0), "peak", (double)memory.slotsPeak);
	xrSetNumber(the, &xsVar(0), "reserved", (double)memory.slotsReserved);
	xrSetNumber(the, &xsVar(0), "bytes", (double)memory.slotBytes);
	xsSet(xsResult, xsID("slots"), xsVar(0));
	xsVar(0) = xsNewObject();
	xrSetNumber(the, &xsVar(0), "peak", (double)memory.stackPeak);
	xrSetNumber(the, &xsVar(0), "size", (double)memory.stackSize);
	xsSet(xsResult, xsID("stack"), xsVar(0));
	xsVar(0) = xsNewObject();
	xrSetNumber(the, &xsVar(0), "peak", (double)xrRun.parserPeak);
	xrSetNumber(the, &xsVar(0), "count", (double)xrRun.parseCount);
	xsSet(xsResult, xsID("parser"), xsVar(0));
	xrSetNumber(the, &xsResult, "gcCount", (double)memory.gcCount);
	xrSetNumber(the, &xsResult, "keys", (double)memory.keysUsed);
	xrSetNumber(the, &xsResult, "modules", (double)memory.modulesLoaded);
}

static void xr_resetPeaks(xsMachine* the)
{
	xrResetMachinePeaks(the);
	xr_alloc_reset_peak();
}

static void xr_exit(xsMachine* the)
{
	int code = xsToInteger(xsArgc) > 0 ? xsToInteger(xsArg(0)) : xrRun.exitCode;
	fflush(stdout);
	fflush(stderr);
	exit(code);
}

static void xr_setDriver(xsMachine* the)
{
	if (!xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("setDriver expected a function");
	if (!xrHasDriver)
		xsRemember(xrDriver);
	xrDriver = xsArg(0);
	xrHasDriver = 1;
}

/* xsVar(0).name = a host function, through xsVar(2): XS macros must not nest calls that push. */
static void xrDefine(xsMachine* the, const char* name, xsCallback callback, int length)
{
	xsVar(2) = xsNewHostFunction(callback, length);
	xsSet(xsVar(0), xsID(name), xsVar(2));
}

void xrInstallGlobals(xsMachine* the, int argc, char** argv)
{
	int i;
	xsBeginHost(the);
	{
		xsVars(3);
		xsVar(0) = xsNewObject();
		xrDefine(the, "now", xr_now, 0);
		xrDefine(the, "gc", xr_gc, 0);
		xrDefine(the, "memory", xr_memory, 0);
		xrDefine(the, "resetPeaks", xr_resetPeaks, 0);
		xrDefine(the, "write", xr_write, 1);
		xrDefine(the, "writeError", xr_writeError, 1);
		xrDefine(the, "exit", xr_exit, 1);
		xrDefine(the, "setDriver", xr_setDriver, 1);
		xsSet(xsVar(0), xsID("exitCode"), xsInteger(0));
		xsSet(xsVar(0), xsID("engine"), xsString((xsStringValue)xrEngineVersion()));
		xsSet(xsVar(0), xsID("strings"), xsString((xsStringValue)xrStringMode()));
		xsSet(xsVar(0), xsID("parseAllowed"), xsBoolean(xrRun.parseAllowed));
		xsSet(xsVar(0), xsID("bytecode"), xsBoolean(xrRun.bundle != NULL));
		xsVar(1) = xsNewArray(0);
		for (i = 0; i < argc; i++)
			xsSetAt(xsVar(1), xsInteger(i), xsString(argv[i]));
		xsSet(xsVar(0), xsID("args"), xsVar(1));
		xsSet(xsGlobal, xsID("xsrun"), xsVar(0));
		xsVar(2) = xsNewHostFunction(xr_print, 1);
		xsSet(xsGlobal, xsID("print"), xsVar(2));
	}
	xsEndHost(the);
	if (xrIoInstall)
		xrIoInstall(the);
}

static void xr_imported(xsMachine* the)
{
	xrImportState = 1;
}

static void xr_importFailed(xsMachine* the)
{
	xrImportState = -1;
	xrRun.exitCode = 1;
	fflush(stdout);
	fputs("xsrun: ", stderr);
	xrPut(stderr, xsToString(xsArg(0)));
	fputc('\n', stderr);
}

int xrImportModule(xsMachine* the, const char* specifier)
{
	xrImportState = 0;
	xsBeginHost(the);
	{
		xsTry {
			xrImport(the, specifier, (xrCallback)xr_imported, (xrCallback)xr_importFailed);
		}
		xsCatch {
			xrPrintException(the, "xsrun: import failed: ");
			xrImportState = -1;
			xrRun.exitCode = 1;
		}
	}
	xsEndHost(the);
	xrRunLoop(the);
	if (xrImportState == 0) {
		fprintf(stderr, "xsrun: %s: the import never settled (top-level await on a promise nothing resolves)\n", specifier);
		xrRun.exitCode = 1;
		return -1;
	}
	return xrImportState > 0 ? 0 : -1;
}

void xrRunLoop(xsMachine* the)
{
	int jobsRan = 0;
	for (;;) {
		double wait = -1;
		if (xrRunPromiseJobs(the))
			jobsRan = 1;
		if (xrHasDriver) {
			xsBeginHost(the);
			{
				xsTry {
					wait = xsToNumber(xsCallFunction1(xrDriver, xsUndefined, xsBoolean(jobsRan)));
				}
				xsCatch {
					xrPrintException(the, "xsrun: timer driver failed: ");
					xrRun.exitCode = 1;
					wait = -1;
				}
			}
			xsEndHost(the);
		}
		jobsRan = 0;
		if (xrHasPromiseJobs(the))
			continue;
		/* Open sockets keep the loop alive; their events end the wait early. */
		if (xrIoWait && xrIoWait(the, wait))
			continue;
		if (wait < 0)
			break;
		if (wait > 0)
			xrSleepMs(wait);
	}
}

int xrExitCode(xsMachine* the)
{
	int code = xrRun.exitCode;
	xsBeginHost(the);
	{
		xsVars(1);
		xsTry {
			int fromScript;
			xsVar(0) = xsGet(xsGlobal, xsID("xsrun"));
			fromScript = xsToInteger(xsGet(xsVar(0), xsID("exitCode")));
			if (fromScript)
				code = fromScript;
		}
		xsCatch {
		}
	}
	xsEndHost(the);
	return code;
}

void xrPrintMemory(xsMachine* the, const char* phase)
{
	xrMachineMemory memory;
	xrGetMachineMemory(the, &memory);
	fflush(stdout);
	fprintf(stderr, "xsrun memory %s: malloc peak %lu live %lu calls %lu; slots %ld/%ld (peak %ld, %d B each); "
		"chunks %ld/%ld B (peak %ld); stack peak %ld/%ld slots; gc %ld; keys %ld; modules %ld; parsed %lu (parser peak %lu B)\n",
		phase, (unsigned long)xrAlloc.peak, (unsigned long)xrAlloc.current, xrAlloc.calls,
		memory.slotsCurrent, memory.slotsReserved, memory.slotsPeak, (int)memory.slotBytes,
		memory.chunksCurrent, memory.chunksReserved, memory.chunksPeak,
		memory.stackPeak, memory.stackSize, memory.gcCount, memory.keysUsed, memory.modulesLoaded,
		xrRun.parseCount, (unsigned long)xrRun.parserPeak);
}
