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

