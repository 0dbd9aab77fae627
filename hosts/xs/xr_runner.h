/*
 * What the parts of xsrun share: the runner's settings and state, and the entry points of the platform
 * layer (xr_platform.c, written against the engine's internal API) that the front end (main.c) and the
 * host functions (xr_host.c, public xs.h API) call. Plain C types only, so both sides can include it.
 */
#ifndef XR_RUNNER_H
#define XR_RUNNER_H

#include <stddef.h>

typedef struct {
	/* Precompiled modules (a bundle, see xr_bundle.c), or NULL to load source files. */
	const unsigned char* bundle;
	size_t bundleSize;
	/* 0 in bytecode mode: any attempt to parse (a module source, eval, new Function) fails. */
	int parseAllowed;
	/* Parse with line numbers in the bytecode (bigger code, better error locations). */
	int debugLines;
	/* Bare specifiers ("node:test", "tweetnacl") to module keys, from --map or the bundle. */
	int aliasCount;
	const char** aliasSpecifiers;
	const char** aliasKeys;
	/* C stack: the machine refuses to recurse below base - bytes. */
	char* cStackBase;
	size_t cStackBytes;
	/* Statistics. */
	unsigned long parseCount;  /* scripts and modules parsed on this machine */
	size_t parserPeak;         /* largest parser arena (txParser total), bytes */
	int exitCode;
	int unhandledRejections;
} xrRunner;

extern xrRunner xrRun;

/* Memory of one machine; slot and stack figures are counts of txSlot (16 B on 32-bit, 32 B on 64-bit). */
typedef struct {
	size_t slotBytes;
	long chunksCurrent, chunksPeak, chunksReserved;  /* bytes */
	long slotsCurrent, slotsPeak, slotsReserved;     /* slots */
	long stackPeak, stackSize;                       /* slots */
	long gcCount;
	long keysUsed;
	long modulesLoaded;
} xrMachineMemory;

void xrGetMachineMemory(void* the, xrMachineMemory* memory);
void xrResetMachinePeaks(void* the);

/* Drains the promise jobs (and ends the job); returns 1 when any job ran. */
int xrRunPromiseJobs(void* the);
/* Reports the rejections nobody handled, as the process ends (each counts as a failure). */
void xrCheckRejectionsAtExit(void* the);
/* 1 when promise jobs wait to run. */
int xrHasPromiseJobs(void* the);

/* Imports `specifier` as the program would; the callbacks get the namespace or the error as argument 0. */
typedef void (*xrCallback)(void* the);
void xrImport(void* the, const char* specifier, xrCallback onFulfilled, xrCallback onRejected);

/* Adds a bare specifier to the alias table (the strings must outlive the machine). Returns 0 or -1. */
int xrAddAlias(const char* specifier, const char* key);

/* The compiler side (xr_compile.c; an image without the parser links xr_nocompile.c, where all refuse). */
/* Aliases from a map file: lines "alias <specifier> <key>"; # comments. Returns 0 or prints and returns -1. */
int xrLoadMap(const char* path);
/* Parses each module key (a file path) and writes a bundle; optionally the same bytes as a C array. */
int xrCompileBundle(void* the, const char* outPath, const char* cArrayPath, const char** keys, int count);
/* 1 when the key names a readable source file. */
int xrSourceExists(const char* key);
/* Parses the source file of a module key: the engine's script, or an exception thrown in the machine. */
void* xrLoadSource(void* the, const char* key);

/* Checks a bundle and takes its alias table; returns 0 or prints why not and returns -1. */
int xrOpenBundle(const unsigned char* data, size_t size);
/* Registers the open bundle's symbols on a new machine, before anything else makes a key, and checks their
   IDs against the bytecode's; returns 0 or prints why not and returns -1. */
int xrPrepareBundle(void* the);
/* Imports every module of the open bundle except `skip` and `program` (xr_platform.c); 0 or -1. */
int xrPreloadBundle(void* the, const char* skip, const char* program);
/* Looks every intrinsic up on the global object, so that its cache is whole before the machine is shared; returns how
   many are missing. */
int xrFillGlobalCache(void* the);
/* Once the machine is shared: its strings, big integers and keys stay where they are (X kinds, never marked), its
   collections are read-only, its ArrayBuffers move into `room` (RAM); returns the room used, -1 when it is too small. */
long xrKeepSharedInPlace(void* the, unsigned char* room, size_t size);

/* Prints a one-line description of the pending exception to stderr, after `prefix`. */
void xrPrintException(void* the, const char* prefix);

#endif
