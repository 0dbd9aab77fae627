/*
 * xsrun platform layer: the hooks the XS engine calls (machine platform, chunk and slot allocation,
 * module find/load, promise jobs, abort, C stack limit) and the bundle reader, written against the
 * engine's internal API (xsAll.h). Our own code; the engine sources are compiled from node_modules, never
 * copied. Shared by xsrun (hosts/xs/Makefile) and the Cortex-M image (hosts/cortex-m/Makefile): nothing
 * here touches files; the compiler side (parsing, source modules, the precompiler, module maps) is
 * xr_compile.c, which an image without the parser replaces with xr_nocompile.c.
 *
 * Modules are named by keys that are project-relative paths ("build/src/mqtt/parser.js"). Relative
 * specifiers resolve against the importing key; bare ones ("node:test", "tweetnacl") through an alias
 * table (--map file, or the bundle's own). A key loads from the bundle when one is open, else from its
 * source file, which this machine then parses (xr_compile.c).
 */
#include "xsAll.h"
#include "xsScript.h"
#include "xr_alloc.h"
#include "xr_bundle.h"
#include "xr_runner.h"
#include "xr_host.h"

xrRunner xrRun = {
	C_NULL, 0,      /* bundle */
	1, 0,           /* parseAllowed, debugLines */
	0, C_NULL, C_NULL,
	C_NULL, 256 * 1024,
	0, 0, 0, 0
};

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

/* The engine stops recursing (RangeError "stack overflow") below this address: the front end's frame minus
   cStackBytes (xsrun: --c-stack; the Cortex-M image: its stack region less a margin for C below the check). */
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

int xrAddAlias(const char* specifier, const char* key)
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
	else if (record->kind == XR_RECORD_MODULE || record->kind == XR_RECORD_SYMBOLS) {
		size_t header, payload;
		if (bytes < 16)
			return -1;
		record->name = (const char*)p + 16;
		header = (16 + (size_t)nameBytes + 3) & ~(size_t)3;
		if (header > bytes || p[16 + nameBytes - 1])
			return -1;
		payload = bytes - header;
		if (record->kind == XR_RECORD_MODULE) {
			record->codeSize = xrRead32(p + 8);
			if (record->codeSize > payload)
				return -1;
			record->code = p + header;
		}
		else {
			record->count = xrRead32(p + 8);
			record->firstID = xrRead32(p + 12);
			record->names = (const char*)p + header;
			record->namesSize = payload;
		}
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
	return xrSourceExists(key);
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
		/* A key the host replaces with its own module (hosts/xs/modules.mjs HOST_MODULES). */
		for (i = 0; i < xrRun.aliasCount; i++) {
			if (!strcmp(xrRun.aliasSpecifiers[i], key)) {
				if (xrJoinPath(C_NULL, xrRun.aliasKeys[i], key, sizeof(key)))
					return XS_NO_ID;
				break;
			}
		}
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

/* Registers the bundle's symbols, in its order, as the compiling machine did (xr_bundle.h): the keys of the
   prepared bytecode. Their names stay in the bundle (fxNewNameX). Call it on the new machine before anything
   else makes a key. */
int xrPrepareBundle(void* machine)
{
	txMachine* the = machine;
	size_t offset = 0;
	xrBundleRecord record;
	const char* name;
	const char* end;
	uint32_t i;
	record.kind = 0;
	while (xrBundleNext(xrRun.bundle, xrRun.bundleSize, &offset, &record) > 0) {
		if (record.kind == XR_RECORD_SYMBOLS)
			break;
	}
	if (record.kind != XR_RECORD_SYMBOLS) {
		fprintf(stderr, "xsrun: the bundle has no symbol table\n");
		return -1;
	}
	name = record.names;
	end = record.names + record.namesSize;
	for (i = 0; i < record.count; i++) {
		const char* nul = memchr(name, 0, (size_t)(end - name));
		txID expected = (txID)(record.firstID + i);
		txID id;
		if (!nul) {
			fprintf(stderr, "xsrun: malformed bundle symbol table at symbol %lu\n", (unsigned long)i);
			return -1;
		}
		id = fxNewNameX(the, (txString)name);
		if (id != expected) {
			fprintf(stderr, "xsrun: the bundle's symbol \"%s\" is key %d on this machine but %d where it was compiled: "
				"precompile with an xsrun of this engine and flags\n", name, (int)id, (int)expected);
			return -1;
		}
		name = nul + 1;
	}
	return 0;
}

/* The global object caches the intrinsics it is asked for in a table (fxGlobalGetProperty writes it on a miss): a
   machine shared from flash must have every one looked up before, or a clone's first lookup writes to flash.
   Returns how many of them are not there (each would be looked up, and written, again). */
int xrFillGlobalCache(void* machine)
{
	txMachine* the = machine;
	txSlot* global = mxGlobal.value.reference;
	int missing = 0;
	txID id;
	for (id = XS_SYMBOL_ID_COUNT; id < XS_INTRINSICS_COUNT; id++) {
		if (!global->next->value.table.address[id] && !fxGlobalGetProperty(the, global, id, 0, XS_ANY)) {
			fprintf(stderr, "xsrun: the global %s is not there\n", fxName(the, id));
			missing++;
		}
	}
	return missing;
}

/* A machine shared from flash: its strings, big integers and keys become XS's "X" kinds, whose bytes the collector
   neither marks nor moves, and regular expressions lose their scratch data. A clone's collection marks the chunk of
   every string it reaches, in the chunk's header: in flash that is a write (a fault, with the image's MPU). */
static void xrKeepInPlace(txSlot* slot)
{
	if (slot->kind == XS_STRING_KIND)
		slot->kind = XS_STRING_X_KIND;
	else if (slot->kind == XS_BIGINT_KIND)
		slot->kind = XS_BIGINT_X_KIND;
	else if (slot->kind == XS_KEY_KIND)
		slot->kind = XS_KEY_X_KIND;
	/* A regular expression matches into its data chunk; without one, each match takes a chunk of the clone's. */
	else if (slot->kind == XS_REGEXP_KIND)
		slot->value.regexp.data = C_NULL;
	/* XS aliases a shared object a clone writes, but not the contents of its collections: those are read-only, as on
	   Moddable's prepared machines (a write throws "Map instance is read-only"). */
	else if (slot->kind == XS_MAP_KIND || slot->kind == XS_SET_KIND || slot->kind == XS_WEAK_MAP_KIND || slot->kind == XS_WEAK_SET_KIND)
		slot->flag |= XS_DONT_SET_FLAG;
}

/* Nor the bytes of its ArrayBuffers, which modules write (@noble/hashes keeps SHA-256's message schedule at its top
   level): each shared buffer, its chunk header with it, moves into `room`, RAM at the same address in every run of the
   image, which the boot fills again from the copy the preparation saves. Returns the bytes used, or -1 when they do
   not fit. Without room, the buffers are read-only ("read-only buffer"). */
#define XR_CHUNK_MARK 0x80000000 /* the collector's mark in a chunk's size (xsMemory.c's mxChunkFlag) */

static long xrMoveBuffer(txSlot* slot, unsigned char* room, size_t size, size_t used)
{
	txChunk* chunk = (txChunk*)(slot->value.arrayBuffer.address - sizeof(txChunk));
	size_t bytes = (size_t)(chunk->size & ~XR_CHUNK_MARK);
	txChunk* moved = (txChunk*)(room + used);
	if (!room) {
		slot->flag |= XS_DONT_SET_FLAG;
		return (long)used;
	}
	if (used + bytes > size) {
		fprintf(stderr, "xsrun: the prepared machine's ArrayBuffers need more than the %lu bytes of RAM set aside for them\n", (unsigned long)size);
		return -1;
	}
	c_memcpy(moved, chunk, bytes);
	moved->size = (txSize)bytes;
	moved->temporary = C_NULL;
	slot->value.arrayBuffer.address = (txByte*)(moved + 1);
	return (long)(used + ((bytes + 7) & ~(size_t)7));
}

long xrKeepSharedInPlace(void* machine, unsigned char* room, size_t size)
{
	txMachine* the = machine;
	txSlot* heap;
	txSlot* slot;
	long used = 0;
	for (heap = the->firstHeap; heap; heap = heap->next) {
		for (slot = heap + 1; slot < heap->value.reference; slot++) {
			xrKeepInPlace(slot);
			if (slot->kind == XS_ARRAY_BUFFER_KIND && slot->value.arrayBuffer.address) {
				if ((used = xrMoveBuffer(slot, room, size, (size_t)used)) < 0)
					return -1;
			}
			else if (slot->kind == XS_ARRAY_KIND && slot->value.array.address) {
				txSlot* item = slot->value.array.address;
				txIndex count = fxGetIndexSize(the, slot);
				while (count--)
					xrKeepInPlace(item++);
			}
		}
	}
	for (slot = the->stack; slot < the->stackTop; slot++)
		xrKeepInPlace(slot);
	return used;
}

/* Imports every module of the bundle but `skip` and `program` (keys): a machine prepared at build time holds them. */
int xrPreloadBundle(void* machine, const char* skip, const char* program)
{
	size_t offset = 0;
	xrBundleRecord record;
	while (xrBundleNext(xrRun.bundle, xrRun.bundleSize, &offset, &record) > 0) {
		if (record.kind != XR_RECORD_MODULE || (skip && !strcmp(record.name, skip)) || !strcmp(record.name, program))
			continue;
		if (xrImportModule(machine, record.name))
			return -1;
	}
	return 0;
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
	txString key = fxGetKeyName(the, moduleID);
	if (xrRun.bundle) {
		xrBundleRecord record;
		txScript script;
		if (!xrBundleFind(key, &record))
			mxReferenceError("module %s is not in the bundle", key);
		/* Prepared bytecode executes in place: no symbols to remap, nothing to copy out of flash or to free. */
		c_memset(&script, 0, sizeof(script));
		script.codeBuffer = (txS1*)record.code;
		script.codeSize = (txSize)record.codeSize;
		script.path = key;
		script.version[0] = XS_MAJOR_VERSION;
		script.version[1] = XS_MINOR_VERSION;
		script.version[2] = XS_PATCH_VERSION;
		fxResolveModule(the, module, moduleID, &script, C_NULL, C_NULL);
	}
	else
		fxResolveModule(the, module, moduleID, xrLoadSource(the, key), C_NULL, C_NULL);
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
