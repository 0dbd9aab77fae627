/*
 * xsrun platform layer: the hooks the XS engine calls (machine platform, chunk and slot allocation,
 * module find/load, parsing, promise jobs, abort, C stack limit), written against the engine's internal
 * API (xsAll.h). Our own code; the engine sources are compiled from node_modules, never copied.
 *
 * Modules are named by keys that are project-relative paths ("build/src/mqtt/parser.js"). Relative
 * specifiers resolve against the importing key; bare ones ("node:test", "tweetnacl") through an alias
 * table (--map file, or the bundle's own). A key loads from the bundle when one is open, else from its
 * source file, which this machine then parses.
 */
#include "xsAll.h"
#include "xsScript.h"
#include "xr_alloc.h"
#include "xr_bundle.h"
#include "xr_runner.h"

xrRunner xrRun = {
	C_NULL, 0,      /* bundle */
	1, 0,           /* parseAllowed, debugLines */
	0, C_NULL, C_NULL,
	C_NULL, 256 * 1024,
	0, 0, 0, 0
};

/* String literals in bytecode are in the engine's string encoding: a bundle says which. */
#ifdef mxCESU8
	#define XR_STRINGS XR_BUNDLE_CESU8
#else
	#define XR_STRINGS 0
#endif

const char* xrStringMode(void)
{
	return XR_STRINGS ? "cesu8" : "utf8";
}

const char* xrEngineVersion(void)
{
	static char version[16];
	if (!version[0])
		c_snprintf(version, sizeof(version), "%d.%d.%d", XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION);
	return version;
}

/* Machine platform */

void fxCreateMachinePlatform(txMachine* the)
{
	the->host = C_NULL;
	the->xrPromiseJobs = 0;
}

void fxDeleteMachinePlatform(txMachine* the)
{
}

/* Chunks and slots come from the counting allocator like everything else. */

void* fxAllocateChunks(txMachine* the, txSize size)
{
	return c_malloc(size);
}

void fxFreeChunks(txMachine* the, void* chunks)
{
	c_free(chunks);
}

txSlot* fxAllocateSlots(txMachine* the, txSize count)
{
	return (txSlot*)c_malloc((size_t)count * sizeof(txSlot));
}

void fxFreeSlots(txMachine* the, void* slots)
{
	c_free(slots);
}

/* The engine stops recursing (RangeError "stack overflow") below this address. On an MCU: the task's stack
   bottom plus a margin. Here: main()'s frame minus --c-stack bytes. */
char* fxCStackLimit()
{
	if (!xrRun.cStackBase)
		return C_NULL;
	return xrRun.cStackBase - xrRun.cStackBytes;
}

int xr_gettimeofday(c_timeval* tv, struct c_timezone* tz)
{
	(void)tz;
	return gettimeofday(tv, C_NULL);
}

/* Promise jobs: the engine only tells us that jobs wait; the run loop (xr_host.c) drains them. */

void fxQueuePromiseJobs(txMachine* the)
{
	the->xrPromiseJobs = 1;
}

int xrHasPromiseJobs(void* machine)
{
	return ((txMachine*)machine)->xrPromiseJobs;
}

int xrRunPromiseJobs(void* machine)
{
	txMachine* the = machine;
	int ran = 0;
	for (;;) {
		while (the->xrPromiseJobs) {
			the->xrPromiseJobs = 0;
			fxRunPromiseJobs(the);
			ran = 1;
		}
		fxEndJob(the);
		if (!the->xrPromiseJobs)
			break;
	}
	return ran;
}

void xrPrintException(void* machine, const char* prefix)
{
	txMachine* the = machine;
	txSlot* stack = the->stack;
	mxTry(the) {
		mxPush(mxException);
		fprintf(stderr, "%s%s\n", prefix, fxToString(the, the->stack));
	}
	mxCatch(the) {
		fprintf(stderr, "%s(an exception that cannot be converted to a string)\n", prefix);
	}
	the->stack = stack;
}

void fxAbort(txMachine* the, int status)
{
	const char* why;
	switch (status) {
	case XS_UNHANDLED_REJECTION_EXIT:
		/* Like Node: an unhandled rejection fails the run, but the loop goes on so the tests report. */
		xrRun.unhandledRejections++;
		xrRun.exitCode = 1;
		xrPrintException(the, "xsrun: unhandled rejection: ");
		return;
	case XS_UNHANDLED_EXCEPTION_EXIT:
		xrPrintException(the, "xsrun: unhandled exception: ");
		fflush(stdout);
		exit(1);
	case XS_STACK_OVERFLOW_EXIT: why = "stack overflow"; break;
	case XS_NOT_ENOUGH_MEMORY_EXIT: why = "memory full"; break;
	case XS_NO_MORE_KEYS_EXIT: why = "not enough keys"; break;
	case XS_DEAD_STRIP_EXIT: why = "dead strip"; break;
	case XS_TOO_MUCH_COMPUTATION_EXIT: why = "too much computation"; break;
	default: why = "fatal check"; break;
	}
	fflush(stdout);
	fprintf(stderr, "xsrun: XS abort: %s (malloc %lu bytes live, peak %lu, cap %lu; slots %ld of %ld; chunks %ld of %ld bytes)\n",
		why, (unsigned long)xrAlloc.current, (unsigned long)xrAlloc.peak, (unsigned long)xrAlloc.cap,
		(long)the->currentHeapCount, (long)the->maximumHeapCount, (long)the->currentChunksSize, (long)the->maximumChunksSize);
	exit(2);
}

void xrCheckRejectionsAtExit(void* machine)
{
	txMachine* the = machine;
	fxCheckUnhandledRejections(the, 1);
}

/* Memory figures */

void xrGetMachineMemory(void* machine, xrMachineMemory* memory)
{
	txMachine* the = machine;
	memory->slotBytes = sizeof(txSlot);
	memory->chunksCurrent = the->currentChunksSize;
	memory->chunksPeak = the->peakChunksSize;
	memory->chunksReserved = the->maximumChunksSize;
	memory->slotsCurrent = the->currentHeapCount;
	memory->slotsPeak = the->peakHeapCount;
	memory->slotsReserved = the->maximumHeapCount;
	memory->stackPeak = (long)(the->stackTop - the->stackPeak);
	memory->stackSize = (long)(the->stackTop - the->stackBottom);
	memory->gcCount = the->garbageCollectionCount;
	memory->keysUsed = the->keyIndex - the->keyOffset;
	memory->modulesLoaded = the->loadedModulesCount;
}

void xrResetMachinePeaks(void* machine)
{
	txMachine* the = machine;
	the->peakChunksSize = the->currentChunksSize;
	the->peakHeapCount = the->currentHeapCount;
	the->stackPeak = the->stack;
	the->peakParserSize = 0;
	xrRun.parserPeak = 0;
}

/* Aliases */

static int xrAliasCapacity = 0;

static int xrAddAlias(const char* specifier, const char* key)
{
	if (xrRun.aliasCount == xrAliasCapacity) {
		int capacity = xrAliasCapacity ? 2 * xrAliasCapacity : 16;
		const char** specifiers = realloc((void*)xrRun.aliasSpecifiers, capacity * sizeof(char*));
		const char** keys = realloc((void*)xrRun.aliasKeys, capacity * sizeof(char*));
		if (!specifiers || !keys)
			return -1;
		xrRun.aliasSpecifiers = specifiers;
		xrRun.aliasKeys = keys;
		xrAliasCapacity = capacity;
	}
	xrRun.aliasSpecifiers[xrRun.aliasCount] = specifier;
	xrRun.aliasKeys[xrRun.aliasCount] = key;
	xrRun.aliasCount++;
	return 0;
}

int xrLoadMap(const char* path)
{
	char line[2 * C_PATH_MAX + 16];
	int number = 0;
	FILE* file = fopen(path, "r");
	if (!file) {
		fprintf(stderr, "xsrun: cannot read the module map %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), file)) {
		char kind[16], specifier[C_PATH_MAX], key[C_PATH_MAX];
		number++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%15s %255s %255s", kind, specifier, key) != 3 || strcmp(kind, "alias")) {
			fprintf(stderr, "%s:%d: expected \"alias <specifier> <key>\"\n", path, number);
			fclose(file);
			return -1;
		}
		/* The map lives as long as the process: these copies are host memory, not the machine's. */
		if (xrAddAlias(strdup(specifier), strdup(key))) {
			fclose(file);
			return -1;
		}
	}
	fclose(file);
	return 0;
}

/* Bundle */

int xrBundleNext(const unsigned char* data, size_t size, size_t* offset, xrBundleRecord* record)
{
	size_t at = *offset ? *offset : XR_BUNDLE_HEADER;
	uint32_t bytes;
	uint16_t nameBytes;
	const unsigned char* p;
	if (at == size)
		return 0;
	if (at + 8 > size)
		return -1;
	p = data + at;
	bytes = xrRead32(p);
	nameBytes = xrRead16(p + 6);
	if (bytes < 8 || (bytes & 3) || bytes > size - at || nameBytes == 0)
		return -1;
	record->kind = p[4];
	if (record->kind == XR_RECORD_ALIAS) {
		record->name = (const char*)p + 8;
		if (8 + (size_t)nameBytes >= bytes || p[8 + nameBytes - 1])
			return -1;
		record->key = (const char*)p + 8 + nameBytes;
		if (!memchr(record->key, 0, bytes - 8 - nameBytes))
			return -1;
	}
	else if (record->kind == XR_RECORD_MODULE) {
		size_t header;
		if (bytes < 16)
			return -1;
		record->codeSize = xrRead32(p + 8);
		record->symbolsSize = xrRead32(p + 12);
		record->name = (const char*)p + 16;
		header = (16 + (size_t)nameBytes + 3) & ~(size_t)3;
		if (header + record->codeSize + record->symbolsSize > bytes || p[16 + nameBytes - 1])
			return -1;
		record->code = p + header;
		record->symbols = record->code + record->codeSize;
	}
	else
		return -1;
	*offset = at + bytes;
	return 1;
}

int xrOpenBundle(const unsigned char* data, size_t size)
{
	size_t offset = 0;
	xrBundleRecord record;
	int result;
	if (size < XR_BUNDLE_HEADER || memcmp(data, "XSRB", 4)) {
		fprintf(stderr, "xsrun: not a bundle (no XSRB header)\n");
		return -1;
	}
	if (data[4] != XR_BUNDLE_FORMAT || data[5] != XS_MAJOR_VERSION || data[6] != XS_MINOR_VERSION || data[7] != XS_PATCH_VERSION
			|| data[8] != sizeof(txID) || (data[9] & XR_BUNDLE_CESU8) != XR_STRINGS) {
		fprintf(stderr, "xsrun: bundle made for format %d, XS %d.%d.%d, %d-byte IDs, %s strings; this runner is format %d, XS %d.%d.%d, %d-byte IDs, %s strings\n",
			data[4], data[5], data[6], data[7], data[8], (data[9] & XR_BUNDLE_CESU8) ? "CESU-8" : "UTF-8",
			XR_BUNDLE_FORMAT, XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION, (int)sizeof(txID), XR_STRINGS ? "CESU-8" : "UTF-8");
		return -1;
	}
	while ((result = xrBundleNext(data, size, &offset, &record)) > 0) {
		if (record.kind == XR_RECORD_ALIAS && xrAddAlias(record.name, record.key))
			return -1;
	}
	if (result < 0) {
		fprintf(stderr, "xsrun: malformed bundle record at byte %lu\n", (unsigned long)offset);
		return -1;
	}
	xrRun.bundle = data;
	xrRun.bundleSize = size;
	xrRun.debugLines = data[9] & XR_BUNDLE_LINES;
	return 0;
}

static int xrBundleFind(const char* key, xrBundleRecord* found)
{
	size_t offset = 0;
	while (xrBundleNext(xrRun.bundle, xrRun.bundleSize, &offset, found) > 0) {
		if (found->kind == XR_RECORD_MODULE && !strcmp(found->name, key))
			return 1;
	}
	return 0;
}

/* Parsing, with the error reporter and the parser-OOM guard */

typedef struct {
	txParser* parser;
	txParserJump* jump;
	int line;
	char message[200];
} xrParseState;

static xrParseState* xrParsing = C_NULL;

/* The engine's default reporters print nothing without mxDebug; ours keeps the first error and its line so
   the module's SyntaxError can say file:line. */
static void xrReportError(void* console, txString path, txInteger line, txString format, c_va_list arguments)
{
	xrParseState* state = xrParsing;
	if (!state)
		return;
	if (!state->message[0]) {
		state->line = (int)line;
		vsnprintf(state->message, sizeof(state->message), format, arguments);
	}
	/* Parser-OOM guard (xs-facts §1b): after this report fxReportMemoryError allocates the message with
	   fxNewParserString, which fails again and reports again, until the C stack overflows (a HardFault on
	   an MCU). Leave the whole parse now instead; the caller turns it into an error. */
#ifndef XR_NO_OOM_GUARD
	if (state->parser->error == C_ENOMEM)
		c_longjmp(state->jump->jmp_buf, 1);
#endif
}

static void xrReportWarning(void* console, txString path, txInteger line, txString format, c_va_list arguments)
{
}

static int xrFileGetter(void* stream)
{
	return fgetc((FILE*)stream);
}

typedef struct {
	const char* path;
	int line;
	int outOfMemory;
	size_t parserBytes;
	char message[200];
} xrParseError;

/* Parses a module (flags 0) or a program from `stream`. Returns the script, or NULL with `error` filled. */
static txScript* xrParse(txMachine* the, void* stream, txGetter getter, const char* path, txUnsigned flags, xrParseError* error)
{
	txParser parser;
	txParserJump jump;
	xrParseState state;
	xrParseState* outer = xrParsing;
	txScript* volatile script = C_NULL;
	c_memset(&state, 0, sizeof(state));
	c_memset(error, 0, sizeof(*error));
	error->path = path;
	if (!xrRun.parseAllowed) {
		c_snprintf(error->message, sizeof(error->message), "parser disabled: this machine runs precompiled bytecode only");
		return C_NULL;
	}
	xrRun.parseCount++;
	state.parser = &parser;
	state.jump = &jump;
	xrParsing = &state;
	fxInitializeParser(&parser, the, the->parserBufferSize, the->parserTableModulo);
	parser.reportError = xrReportError;
	parser.reportWarning = xrReportWarning;
	parser.firstJump = &jump;
	if (xrRun.debugLines)
		flags |= mxDebugFlag;
	if (c_setjmp(jump.jmp_buf) == 0) {
		if (path)
			parser.path = fxNewParserSymbol(&parser, (txString)path);
		fxParserTree(&parser, stream, getter, flags, C_NULL);
		fxParserHoist(&parser);
		fxParserBind(&parser);
		script = fxParserCode(&parser);
	}
	if (parser.errorCount || parser.error) {
		/* fxParserCode turns errors into a script that throws without a location: ours says where. */
		if (script)
			fxDeleteScript(script);
		script = C_NULL;
		error->outOfMemory = parser.error == C_ENOMEM;
		error->line = state.line;
		if (state.message[0])
			c_snprintf(error->message, sizeof(error->message), "%s", state.message);
		else
			c_snprintf(error->message, sizeof(error->message), "%s", error->outOfMemory ? "out of memory" : strerror(parser.error));
	}
	else if (!script) {
		error->outOfMemory = 1;
		c_snprintf(error->message, sizeof(error->message), "out of memory while emitting bytecode");
	}
	error->parserBytes = parser.total;
	if (xrRun.parserPeak < (size_t)parser.total)
		xrRun.parserPeak = parser.total;
	if (the->peakParserSize < parser.total)
		the->peakParserSize = parser.total;
	fxTerminateParser(&parser);
	xrParsing = outer;
	return script;
}

static void xrThrowParseError(txMachine* the, xrParseError* error)
{
	/* Said here too, like a compiler would: the engine may report a later link error ("import x not
	   found") for the importer instead of this one. */
	fflush(stdout);
	if (error->line)
		fprintf(stderr, "%s:%d: error: %s\n", error->path, error->line, error->message);
	else
		fprintf(stderr, "%s: error: %s\n", error->path, error->message);
	if (error->outOfMemory)
		mxRangeError("%s: module rejected: %s (parser used %lu bytes, malloc cap %lu)", error->path,
			error->message, (unsigned long)error->parserBytes, (unsigned long)xrAlloc.cap);
	if (error->line)
		mxSyntaxError("%s:%d: %s", error->path, error->line, error->message);
	mxSyntaxError("%s: %s", error->path, error->message);
}

/* eval, new Function and the like: the same parser, refused in bytecode mode. */
txScript* fxParseScript(txMachine* the, void* stream, txGetter getter, txUnsigned flags)
{
	xrParseError error;
	txScript* script = xrParse(the, stream, getter, C_NULL, flags, &error);
	if (!script) {
		if (error.line)
			fprintf(stderr, "xsrun: eval or new Function: line %d: %s\n", error.line, error.message);
		else
			fprintf(stderr, "xsrun: eval or new Function: %s\n", error.message);
	}
	return script;
}

/* Modules */

/* Joins `base`'s folder and the relative `name`, resolving "." and ".." segments. Returns 0 or -1. */
static int xrJoinPath(const char* base, const char* name, char* out, size_t size)
{
	char buffer[2 * C_PATH_MAX];
	char* segments[64];
	int count = 0, i;
	size_t length = 0;
	const char* slash = base ? strrchr(base, '/') : C_NULL;
	char* cursor;
	int written;
	if (slash)
		written = c_snprintf(buffer, sizeof(buffer), "%.*s/%s", (int)(slash - base), base, name);
	else
		written = c_snprintf(buffer, sizeof(buffer), "%s", name);
	if (written < 0 || (size_t)written >= sizeof(buffer))
		return -1;
	cursor = buffer;
	while (cursor) {
		char* segment = cursor;
		cursor = strchr(cursor, '/');
		if (cursor)
			*cursor++ = 0;
		if (!segment[0] || !strcmp(segment, "."))
			continue;
		if (!strcmp(segment, "..")) {
			if (count == 0)
				return -1;  /* above the project root */
			count--;
			continue;
		}
		if (count == 64)
			return -1;
		segments[count++] = segment;
	}
	out[0] = 0;
	for (i = 0; i < count; i++) {
		size_t n = strlen(segments[i]);
		if (length + n + 2 > size)
			return -1;
		if (i)
			out[length++] = '/';
		memcpy(out + length, segments[i], n + 1);
		length += n;
	}
	return count ? 0 : -1;
}

static int xrModuleExists(const char* key)
{
	if (xrRun.bundle) {
		xrBundleRecord record;
		return xrBundleFind(key, &record);
	}
	else {
		FILE* file = fopen(key, "r");
		if (!file)
			return 0;
		fclose(file);
		return 1;
	}
}

txID fxFindModule(txMachine* the, txSlot* realm, txID moduleID, txSlot* slot)
{
	char name[C_PATH_MAX];
	char key[C_PATH_MAX];
	int i;
	fxToStringBuffer(the, slot, name, sizeof(name));
	if (!strncmp(name, "./", 2) || !strncmp(name, "../", 3)) {
		const char* base = (moduleID == XS_NO_ID) ? C_NULL : fxGetKeyName(the, moduleID);
		if (xrJoinPath(base, name, key, sizeof(key)))
			return XS_NO_ID;
	}
	else {
		const char* alias = C_NULL;
		for (i = 0; i < xrRun.aliasCount; i++) {
			if (!strcmp(xrRun.aliasSpecifiers[i], name)) {
				alias = xrRun.aliasKeys[i];
				break;
			}
		}
		/* Anything else is a key itself: what the command line names. */
		if (xrJoinPath(C_NULL, alias ? alias : name, key, sizeof(key)))
			return XS_NO_ID;
	}
	if (!xrModuleExists(key)) {
		if (moduleID == XS_NO_ID)
			mxReferenceError("module %s not found%s", key, xrRun.bundle ? " in the bundle" : "");
		mxReferenceError("module %s not found%s (\"%s\" imported by %s)", key, xrRun.bundle ? " in the bundle" : "",
			name, fxGetKeyName(the, moduleID));
	}
	return fxNewNameC(the, key);
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
	txString key = fxGetKeyName(the, moduleID);
	txScript* script;
	if (xrRun.bundle) {
		xrBundleRecord record;
		if (!xrBundleFind(key, &record))
			mxReferenceError("module %s is not in the bundle", key);
		/* The engine remaps symbol IDs in the code in place, then frees the script: copy it out of flash. */
		script = c_malloc(sizeof(txScript));
		if (!script)
			fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
		c_memset(script, 0, sizeof(txScript));
		script->codeBuffer = c_malloc(record.codeSize);
		script->symbolsBuffer = c_malloc(record.symbolsSize);
		if (!script->codeBuffer || !script->symbolsBuffer) {
			fxDeleteScript(script);
			fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
		}
		c_memcpy(script->codeBuffer, record.code, record.codeSize);
		c_memcpy(script->symbolsBuffer, record.symbols, record.symbolsSize);
		script->codeSize = record.codeSize;
		script->symbolsSize = record.symbolsSize;
		script->version[0] = XS_MAJOR_VERSION;
		script->version[1] = XS_MINOR_VERSION;
		script->version[2] = XS_PATCH_VERSION;
	}
	else {
		xrParseError error;
		FILE* file = fopen(key, "r");
		if (!file)
			mxReferenceError("module %s: cannot read the file", key);
		script = xrParse(the, file, xrFileGetter, key, 0, &error);
		fclose(file);
		if (!script)
			xrThrowParseError(the, &error);
	}
	fxResolveModule(the, module, moduleID, script, C_NULL, C_NULL);
}

void xrImport(void* machine, const char* specifier, xrCallback onFulfilled, xrCallback onRejected)
{
	txMachine* the = machine;
	txSlot* realm;
	/* Called inside xsBeginHost/xsEndHost (xr_host.c), which catches what escapes. */
	realm = mxModuleInstanceInternal(mxProgram.value.reference)->value.module.realm;
	mxPushStringC((txString)specifier);
	fxRunImport(the, realm, XS_NO_ID);
	/* promise.then(onFulfilled, onRejected) */
	mxDub();
	fxGetID(the, mxID(_then));
	mxCall();
	fxNewHostFunction(the, (txCallback)onFulfilled, 1, XS_NO_ID, XS_NO_ID);
	fxNewHostFunction(the, (txCallback)onRejected, 1, XS_NO_ID, XS_NO_ID);
	mxRunCount(2);
	mxPop();
}

/* Precompiling */

static int xrWrite32(FILE* file, uint32_t value)
{
	unsigned char bytes[4] = { value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >> 24) & 0xff };
	return fwrite(bytes, 1, 4, file) == 4 ? 0 : -1;
}

static int xrWriteRecordHead(FILE* file, uint32_t bytes, uint8_t kind, uint16_t nameBytes)
{
	unsigned char head[4] = { kind, 0, nameBytes & 0xff, nameBytes >> 8 };
	if (xrWrite32(file, bytes))
		return -1;
	return fwrite(head, 1, 4, file) == 4 ? 0 : -1;
}

static int xrPad(FILE* file, size_t written)
{
	static const unsigned char zeros[4] = { 0, 0, 0, 0 };
	size_t n = (4 - (written & 3)) & 3;
	return fwrite(zeros, 1, n, file) == n ? 0 : -1;
}

static int xrWriteCArray(const char* bundlePath, const char* cPath)
{
	FILE* in = fopen(bundlePath, "rb");
	FILE* out = fopen(cPath, "w");
	int c;
	unsigned long n = 0;
	if (!in || !out) {
		fprintf(stderr, "xsrun: cannot write %s\n", cPath);
		if (in) fclose(in);
		if (out) fclose(out);
		return -1;
	}
	fprintf(out, "/* Generated by xsrun --compile from %s: XS %d.%d.%d bytecode. Do not edit. */\n",
		bundlePath, XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION);
	fprintf(out, "const unsigned char xsrun_bundle[] __attribute__((aligned(4))) = {");
	while ((c = fgetc(in)) != EOF) {
		fprintf(out, "%s0x%02x,", (n % 16) ? "" : "\n\t", c);
		n++;
	}
	fprintf(out, "\n};\nconst unsigned long xsrun_bundle_size = %lu;\n", n);
	fclose(in);
	return fclose(out) ? -1 : 0;
}

int xrCompileBundle(void* machine, const char* outPath, const char* cArrayPath, const char** keys, int count)
{
	txMachine* the = machine;
	FILE* out = fopen(outPath, "wb");
	unsigned char header[12] = { 'X', 'S', 'R', 'B', XR_BUNDLE_FORMAT, XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION,
		(unsigned char)sizeof(txID), (unsigned char)((xrRun.debugLines ? XR_BUNDLE_LINES : 0) | XR_STRINGS), 0, 0 };
	int i, failed = 0;
	if (!out) {
		fprintf(stderr, "xsrun: cannot write %s: %s\n", outPath, strerror(errno));
		return -1;
	}
	fwrite(header, 1, sizeof(header), out);
	xrWrite32(out, (uint32_t)xrRun.aliasCount);
	xrWrite32(out, (uint32_t)count);
	for (i = 0; i < xrRun.aliasCount; i++) {
		size_t specifierBytes = strlen(xrRun.aliasSpecifiers[i]) + 1;
		size_t keyBytes = strlen(xrRun.aliasKeys[i]) + 1;
		size_t bytes = (8 + specifierBytes + keyBytes + 3) & ~(size_t)3;
		xrWriteRecordHead(out, (uint32_t)bytes, XR_RECORD_ALIAS, (uint16_t)specifierBytes);
		fwrite(xrRun.aliasSpecifiers[i], 1, specifierBytes, out);
		fwrite(xrRun.aliasKeys[i], 1, keyBytes, out);
		xrPad(out, 8 + specifierBytes + keyBytes);
	}
	for (i = 0; i < count; i++) {
		xrParseError error;
		txScript* script;
		size_t nameBytes = strlen(keys[i]) + 1;
		size_t header16 = (16 + nameBytes + 3) & ~(size_t)3;
		size_t bytes;
		FILE* file = fopen(keys[i], "r");
		if (!file) {
			fprintf(stderr, "%s: cannot read: %s\n", keys[i], strerror(errno));
			failed = 1;
			continue;
		}
		script = xrParse(the, file, xrFileGetter, keys[i], 0, &error);
		fclose(file);
		if (!script) {
			if (error.line)
				fprintf(stderr, "%s:%d: error: %s\n", keys[i], error.line, error.message);
			else
				fprintf(stderr, "%s: error: %s\n", keys[i], error.message);
			failed = 1;
			continue;
		}
		bytes = (header16 + script->codeSize + script->symbolsSize + 3) & ~(size_t)3;
		xrWriteRecordHead(out, (uint32_t)bytes, XR_RECORD_MODULE, (uint16_t)nameBytes);
		xrWrite32(out, (uint32_t)script->codeSize);
		xrWrite32(out, (uint32_t)script->symbolsSize);
		fwrite(keys[i], 1, nameBytes, out);
		xrPad(out, 16 + nameBytes);
		fwrite(script->codeBuffer, 1, script->codeSize, out);
		fwrite(script->symbolsBuffer, 1, script->symbolsSize, out);
		xrPad(out, script->codeSize + script->symbolsSize);
		printf("%s\tcode %ld\tsymbols %ld\n", keys[i], (long)script->codeSize, (long)script->symbolsSize);
		fxDeleteScript(script);
	}
	if (fclose(out) || failed) {
		remove(outPath);
		return -1;
	}
	if (cArrayPath && xrWriteCArray(outPath, cArrayPath))
		return -1;
	return 0;
}
