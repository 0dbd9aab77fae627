/* xsrun host side (xr_host.c): globals, imports and the run loop, for main.c. */
#ifndef XR_HOST_H
#define XR_HOST_H

#include "xs.h"

void xrInstallGlobals(xsMachine* the, int argc, char** argv);
/* Imports a module and runs the loop until nothing is left; 0 when the import fulfilled. */
int xrImportModule(xsMachine* the, const char* specifier);
void xrRunLoop(xsMachine* the);
/* The process exit code: xsrun.exitCode when a script set it, else the runner's. */
int xrExitCode(xsMachine* the);
void xrPrintMemory(xsMachine* the, const char* phase);
/* "13.3.0": the engine these sources build. */
const char* xrEngineVersion(void);
/* "cesu8" (ECMAScript strings, mxCESU8) or "utf8" (XS's device default: code-point strings). */
const char* xrStringMode(void);

/* The platform's clock: xr_posix.c on Linux, the board file on an MCU. Monotonic milliseconds (any origin),
   and an idle wait of about `ms` (the run loop's sleep until the next timer). */
double xrClockMs(void);
void xrSleepMs(double ms);

#endif
