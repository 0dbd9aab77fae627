/*
 * xsrun: runs ES modules on the XS engine with MCU-sized creation settings, or precompiles them to XS
 * bytecode. See docs/xs-host.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xs.h"
#include "xr_alloc.h"
#include "xr_host.h"
#include "xr_runner.h"
#include "xr_natives.h"

/* A bundle linked into the binary as a C array (xsrun --compile ... --c-array), when there is one. */
extern const unsigned char xsrun_bundle[] __attribute__((weak));
extern const unsigned long xsrun_bundle_size __attribute__((weak));
/* A machine prepared at build time, kept in flash (the Cortex-M image's prepared.c): the run that prepares it, the
   prepared machine to clone, and where the prepared machine is written. Absent from xsrun on Linux. */
extern int xrPreparing(void) __attribute__((weak));
extern void* xrPreparedMachine(void) __attribute__((weak));
extern int xrSavePreparedMachine(void* root, size_t roomUsed) __attribute__((weak));
extern unsigned char* xrPreparedRoom(size_t* size) __attribute__((weak));

static void usage(void)
{
	fprintf(stderr,
		"usage: xsrun [options] <module> [args...]\n"
		"       xsrun [options] --compile <out.xsb> [--c-array <out.c>] <module>...\n"
		"options:\n"
		"  --map <file>              bare specifiers: lines \"alias <specifier> <key>\"\n"
		"  --bundle <file>           run precompiled bytecode; the parser is disabled\n"
		"  --embedded                run the bundle linked into this binary\n"
		"  --allow-parse             keep the parser on with a bundle (eval, new Function)\n"
		"  --prelude <key>           module imported first (default hosts/xs/prelude.js)\n"
		"  --no-prelude\n"
		"  --chunks <initial>,<inc>  chunk heap in bytes (default 16384,8192)\n"
		"  --slots <initial>,<inc>   slot heap in slots (default 4096,512)\n"
		"  --stack <slots>           JS stack (default 512)\n"
		"  --keys <initial>,<inc>    key table (default 1024,128)\n"
		"  --names <modulo>          name and symbol table modulo (default 127)\n"
		"  --parser-buffer <bytes>   parser buffer, also the longest token (default 4096)\n"
		"  --heap-cap <bytes>        fail mallocs beyond this many live bytes (the RAM of a part)\n"
		"  --c-stack <bytes>         C stack the engine may use (default 262144)\n"
		"  --debug-lines             keep line numbers in the bytecode\n"
		"  --memory                  print memory figures after the prelude and at exit\n");
}

static int parsePair(const char* text, xsIntegerValue* first, xsIntegerValue* second)
{
	char* end;
	long a = strtol(text, &end, 10), b;
	if (end == text || a <= 0)
		return -1;
	if (*end == 0) {
		*first = (xsIntegerValue)a;
		return 0;
	}
	if (*end != ',' || !second)
		return -1;
	text = end + 1;
	b = strtol(text, &end, 10);
	if (end == text || *end || b <= 0)
		return -1;
	*first = (xsIntegerValue)a;
	*second = (xsIntegerValue)b;
	return 0;
}

static unsigned char* readFile(const char* path, size_t* size)
{
	FILE* file = fopen(path, "rb");
	unsigned char* data;
	long length;
	if (!file)
		return NULL;
	fseek(file, 0, SEEK_END);
	length = ftell(file);
	fseek(file, 0, SEEK_SET);
	/* Plain malloc, not counted: the bundle stands for flash. */
	data = malloc(length > 0 ? (size_t)length : 1);
	if (data && fread(data, 1, (size_t)length, file) != (size_t)length) {
		free(data);
		data = NULL;
	}
	fclose(file);
	*size = (size_t)length;
	return data;
}

int main(int argc, char** argv)
{
	char stackBase;
	xsCreation creation = {
		16 * 1024,  /* initialChunkSize */
		8 * 1024,   /* incrementalChunkSize */
		4096,       /* initialHeapCount (slots) */
		512,        /* incrementalHeapCount */
		512,        /* stackCount (slots) */
		1024,       /* initialKeyCount */
		128,        /* incrementalKeyCount */
		127,        /* nameModulo */
		127,        /* symbolModulo */
		4096,       /* parserBufferSize */
		127,        /* parserTableModulo */
		0,          /* staticSize */
	};
	const char* bundlePath = NULL;
	const char* compilePath = NULL;
	const char* cArrayPath = NULL;
	const char* prelude = "hosts/xs/prelude.js";
	int embedded = 0, allowParse = 0, printMemory = 0;
	int i, code;
	xsMachine* the;
	void* root;

	xrRun.cStackBase = &stackBase;
	/* Line by line even into a pipe, so a run that is killed still shows how far it got. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char* option = argv[i];
		const char* value = (i + 1 < argc) ? argv[i + 1] : NULL;
		int takesValue = 1;
		if (!strcmp(option, "--embedded")) { embedded = 1; takesValue = 0; }
		else if (!strcmp(option, "--allow-parse")) { allowParse = 1; takesValue = 0; }
		else if (!strcmp(option, "--no-prelude")) { prelude = NULL; takesValue = 0; }
		else if (!strcmp(option, "--debug-lines")) { xrRun.debugLines = 1; takesValue = 0; }
		else if (!strcmp(option, "--memory")) { printMemory = 1; takesValue = 0; }
		else if (!strcmp(option, "--help")) { usage(); return 0; }
		else if (!value) { fprintf(stderr, "xsrun: %s needs a value\n", option); return 64; }
		else if (!strcmp(option, "--map")) { if (xrLoadMap(value)) return 64; }
		else if (!strcmp(option, "--bundle")) bundlePath = value;
		else if (!strcmp(option, "--compile")) compilePath = value;
		else if (!strcmp(option, "--c-array")) cArrayPath = value;
		else if (!strcmp(option, "--prelude")) prelude = value;
		else if (!strcmp(option, "--chunks")) { if (parsePair(value, &creation.initialChunkSize, &creation.incrementalChunkSize)) goto bad; }
		else if (!strcmp(option, "--slots")) { if (parsePair(value, &creation.initialHeapCount, &creation.incrementalHeapCount)) goto bad; }
		else if (!strcmp(option, "--stack")) { if (parsePair(value, &creation.stackCount, NULL)) goto bad; }
		else if (!strcmp(option, "--keys")) { if (parsePair(value, &creation.initialKeyCount, &creation.incrementalKeyCount)) goto bad; }
		else if (!strcmp(option, "--names")) {
			if (parsePair(value, &creation.nameModulo, NULL)) goto bad;
			creation.symbolModulo = creation.parserTableModulo = creation.nameModulo;
		}
		else if (!strcmp(option, "--parser-buffer")) { if (parsePair(value, &creation.parserBufferSize, NULL)) goto bad; }
		else if (!strcmp(option, "--heap-cap")) { xsIntegerValue cap; if (parsePair(value, &cap, NULL)) goto bad; xrAlloc.cap = (size_t)cap; }
		else if (!strcmp(option, "--c-stack")) { xsIntegerValue bytes; if (parsePair(value, &bytes, NULL)) goto bad; xrRun.cStackBytes = (size_t)bytes; }
		else { fprintf(stderr, "xsrun: unknown option %s\n", option); usage(); return 64; }
		if (takesValue)
			i++;
		continue;
	bad:
		fprintf(stderr, "xsrun: bad value for %s: %s\n", option, value);
		return 64;
	}
	if (i >= argc) {
		usage();
		return 64;
	}

	if (compilePath) {
		/* The same engine build and parser settings as the run, so the bytecode matches. */
		the = xsCreateMachine(&creation, "xsrun-compile", NULL);
		if (!the) {
			fprintf(stderr, "xsrun: cannot create the machine\n");
			return 2;
		}
		code = xrCompileBundle(the, compilePath, cArrayPath, (const char**)(argv + i), argc - i);
		xsDeleteMachine(the);
		return code ? 1 : 0;
	}

	if (embedded || bundlePath) {
		const unsigned char* data;
		size_t size;
		if (embedded) {
			if (!xsrun_bundle) {
				fprintf(stderr, "xsrun: --embedded, but no bundle is linked into this binary\n");
				return 64;
			}
			data = xsrun_bundle;
			size = xsrun_bundle_size;
		}
		else {
			data = readFile(bundlePath, &size);
			if (!data) {
				fprintf(stderr, "xsrun: cannot read %s: %s\n", bundlePath, strerror(errno));
				return 66;
			}
		}
		if (xrOpenBundle(data, size))
			return 65;
		xrRun.parseAllowed = allowParse;
	}

	root = (xrRun.bundle && xrPreparedMachine) ? xrPreparedMachine() : NULL;
	/* The prepared machine already holds the bundle's keys, the natives and the application's modules. */
	the = root ? xsCloneMachine(&creation, root, "xsrun", NULL) : xsCreateMachine(&creation, "xsrun", NULL);
	if (!the) {
		fprintf(stderr, "xsrun: cannot create the machine (malloc cap %lu)\n", (unsigned long)xrAlloc.cap);
		return 2;
	}
	if (!root && xrRun.bundle && xrPrepareBundle(the))
		return 65;
	if (!root)
		xrInstallNatives(the);
	if (xrPreparing && xrPreparing()) {
		size_t roomSize = 0;
		unsigned char* room = xrPreparedRoom ? xrPreparedRoom(&roomSize) : NULL;
		long roomUsed;
		/* Everything but the prelude and the program, whose top levels read the command line and set the run loop. */
		if (!xrRun.bundle || xrPreloadBundle(the, prelude, argv[i]) || xrFillGlobalCache(the))
			return 1;
		xsShareMachine(the);
		if ((roomUsed = xrKeepSharedInPlace(the, room, roomSize)) < 0)
			return 1;
		return xrSavePreparedMachine(the, (size_t)roomUsed) ? 1 : 0;
	}
	xrInstallGlobals(the, argc - i - 1, argv + i + 1);
	if (prelude && xrImportModule(the, prelude)) {
		fprintf(stderr, "xsrun: the prelude %s did not load\n", prelude);
		return 1;
	}
	if (printMemory)
		xrPrintMemory(the, "after prelude");
	xrImportModule(the, argv[i]);
	xrCheckRejectionsAtExit(the);
	if (printMemory)
		xrPrintMemory(the, "at exit");
	code = xrExitCode(the);
	fflush(stdout);
	xsDeleteMachine(the);
	return code;
}
