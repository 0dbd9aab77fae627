/*
 * xsrun compiler side: what needs the XS parser or files (xr_platform.c is the rest of the platform layer).
 * Module maps (--map), parsing with the error reporter and the parser-OOM guard, source modules, eval and
 * new Function (fxParseScript), and the precompiler that writes bundles and their C arrays. An image
 * built without the parser links xr_nocompile.c instead, and the linker drops the engine's compiler.
 */
#include "xsAll.h"
#include "xsScript.h"
#include "xr_alloc.h"
#include "xr_bundle.h"
#include "xr_runner.h"

/* Module maps */

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
	/* Parser-OOM guard (docs/anchors.md §1b): after this report fxReportMemoryError allocates the message with
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

/* Source modules */

int xrSourceExists(const char* key)
{
	FILE* file = fopen(key, "r");
	if (!file)
		return 0;
	fclose(file);
	return 1;
}

void* xrLoadSource(void* machine, const char* key)
{
	txMachine* the = machine;
	xrParseError error;
	txScript* script;
	FILE* file = fopen(key, "r");
	if (!file)
		mxReferenceError("module %s: cannot read the file", key);
	script = xrParse(the, file, xrFileGetter, key, 0, &error);
	fclose(file);
	if (!script)
		xrThrowParseError(the, &error);
	return script;
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

/* Prepares a module's code to execute in place (xr_bundle.h): each symbol index becomes the machine's key ID,
   and functions and string literals take the *_ARCHIVE opcodes (same operands), which the engine runs from
   the code instead of copying into chunks. Walks the opcodes by the engine's size table, gxCodeSizes: > 0 a
   fixed size, 0 an opcode and an ID, -1, -2 or -4 a length of that many bytes followed by that many bytes. */
static void xrPrepareCode(txByte* p, txSize size, const txID* ids)
{
	txByte* end = p + size;
	while (p < end) {
		txU1 code = *(txU1*)p;
		txS1 layout = gxCodeSizes[code];
		if (layout > 0) {
			if (code >= XS_CODE_CODE_1 && code <= XS_CODE_CODE_4)
				*p = (txByte)(code - XS_CODE_CODE_1 + XS_CODE_CODE_ARCHIVE_1);
			p += layout;
		}
		else if (layout == 0) {
			txByte* operand = p + 1;
			txID id;
			mxDecodeID(operand, id);
			if (id != XS_NO_ID) {
				operand = p + 1;
				id = ids[id];
				mxEncodeID(operand, id);
			}
			p = operand;
		}
		else {
			txByte* operand = p + 1;
			txS4 length;
			if (code >= XS_CODE_STRING_1 && code <= XS_CODE_STRING_4)
				*p = (txByte)(code - XS_CODE_STRING_1 + XS_CODE_STRING_ARCHIVE_1);
			if (layout == -1)
				length = *(txU1*)operand++;
			else if (layout == -2) {
				txU2 u2;
				mxDecode2(operand, u2);
				length = u2;
			}
			else
				mxDecode4(operand, length);
			p = operand + length;
		}
	}
}

/* The bundle's symbol table: the keys the modules' symbols made on the compiling machine, in that order. */
typedef struct {
	txID first;
	uint32_t count;
	size_t bytes;
} xrSymbolTable;

/* Gives each of a script's symbols its key on this machine (a new one for a name it has no key for yet,
   appended to the table) and prepares its code. Returns 0, or -1 when out of memory or the keys are not consecutive. */
static int xrPrepareScript(txMachine* the, txScript* script, xrSymbolTable* table, FILE* names)
{
	txByte* p = script->symbolsBuffer;
	txID count, i;
	txID* ids;
	mxDecodeID(p, count);
	ids = c_malloc(count * sizeof(txID));
	if (!ids)
		return -1;
	ids[0] = XS_NO_ID;
	for (i = 1; i < count; i++) {
		size_t length = strlen((char*)p) + 1;
		txID before = the->keyIndex;
		ids[i] = fxNewNameC(the, (txString)p);
		if (the->keyIndex != before) {
			if (ids[i] != (txID)(table->first + table->count)) {
				c_free(ids);
				return -1;
			}
			fwrite(p, 1, length, names);
			table->count++;
			table->bytes += length;
		}
		p += length;
	}
	xrPrepareCode(script->codeBuffer, script->codeSize, ids);
	c_free(ids);
	return 0;
}

int xrCompileBundle(void* machine, const char* outPath, const char* cArrayPath, const char** keys, int count)
{
	txMachine* the = machine;
	FILE* out = fopen(outPath, "wb");
	FILE* names = tmpfile();
	txScript** scripts = calloc(count ? count : 1, sizeof(txScript*));
	unsigned char header[12] = { 'X', 'S', 'R', 'B', XR_BUNDLE_FORMAT, XS_MAJOR_VERSION, XS_MINOR_VERSION, XS_PATCH_VERSION,
		(unsigned char)sizeof(txID), (unsigned char)((xrRun.debugLines ? XR_BUNDLE_LINES : 0) | XR_STRINGS), 0, 0 };
	static const char symbolsName[] = "symbols";
	xrSymbolTable table = { the->keyIndex, 0, 0 };
	size_t* symbolBytes = calloc(count ? count : 1, sizeof(size_t));
	size_t symbolsHeader = (16 + sizeof(symbolsName) + 3) & ~(size_t)3;
	int i, c, failed = 0;
	if (!out || !names || !scripts || !symbolBytes) {
		fprintf(stderr, "xsrun: cannot write %s: %s\n", outPath, strerror(errno));
		if (out) fclose(out);
		if (names) fclose(names);
		free(scripts);
		free(symbolBytes);
		return -1;
	}
	/* Parse everything first: the symbol table is the keys made after the machine's own, in module order. */
	for (i = 0; i < count; i++) {
		xrParseError error;
		FILE* file = fopen(keys[i], "r");
		if (!file) {
			fprintf(stderr, "%s: cannot read: %s\n", keys[i], strerror(errno));
			failed = 1;
			continue;
		}
		scripts[i] = xrParse(the, file, xrFileGetter, keys[i], 0, &error);
		fclose(file);
		if (!scripts[i]) {
			if (error.line)
				fprintf(stderr, "%s:%d: error: %s\n", keys[i], error.line, error.message);
			else
				fprintf(stderr, "%s: error: %s\n", keys[i], error.message);
			failed = 1;
		}
	}
	if (!failed && the->keyIndex != table.first) {
		fprintf(stderr, "xsrun: parsing made keys on the machine: the bundle's symbol IDs would not hold\n");
		failed = 1;
	}
	for (i = 0; i < count && !failed; i++) {
		size_t before = table.bytes;
		failed = xrPrepareScript(the, scripts[i], &table, names);
		symbolBytes[i] = table.bytes - before;
		if (failed) {
			fprintf(stderr, "xsrun: %s: too many symbols for a bundle\n", keys[i]);
		}
	}
	if (!failed) {
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
		xrWriteRecordHead(out, (uint32_t)((symbolsHeader + table.bytes + 3) & ~(size_t)3), XR_RECORD_SYMBOLS, sizeof(symbolsName));
		xrWrite32(out, table.count);
		xrWrite32(out, (uint32_t)table.first);
		fwrite(symbolsName, 1, sizeof(symbolsName), out);
		xrPad(out, 16 + sizeof(symbolsName));
		rewind(names);
		while ((c = fgetc(names)) != EOF)
			fputc(c, out);
		xrPad(out, table.bytes);
		for (i = 0; i < count; i++) {
			txScript* script = scripts[i];
			size_t nameBytes = strlen(keys[i]) + 1;
			size_t header16 = (16 + nameBytes + 3) & ~(size_t)3;
			xrWriteRecordHead(out, (uint32_t)((header16 + script->codeSize + 3) & ~(size_t)3), XR_RECORD_MODULE, (uint16_t)nameBytes);
			xrWrite32(out, (uint32_t)script->codeSize);
			xrWrite32(out, 0);
			fwrite(keys[i], 1, nameBytes, out);
			xrPad(out, 16 + nameBytes);
			fwrite(script->codeBuffer, 1, script->codeSize, out);
			xrPad(out, script->codeSize);
			/* Its code, and the bytes of the names it added to the bundle's symbol table. */
			printf("%s\tcode %ld\tsymbols %lu\n", keys[i], (long)script->codeSize, (unsigned long)symbolBytes[i]);
		}
	}
	for (i = 0; i < count; i++)
		fxDeleteScript(scripts[i]);
	free(scripts);
	free(symbolBytes);
	fclose(names);
	if (fclose(out) || failed) {
		remove(outPath);
		return -1;
	}
	if (cArrayPath && xrWriteCArray(outPath, cArrayPath))
		return -1;
	return 0;
}
