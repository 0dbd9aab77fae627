/*
 * The compiler side for an image without the XS parser (the Cortex-M firmware): every module comes from
 * the bundle linked into flash; eval, new Function and source modules are refused. Nothing here calls the
 * engine's parser, so the linker's --gc-sections drops it (xsLexical, xsSyntaxical, xsTree, xsScope,
 * xsCode). The counterpart of xr_compile.c, with the same entry points.
 */
#include "xsAll.h"
#include "xr_runner.h"

txScript* fxParseScript(txMachine* the, void* stream, txGetter getter, txUnsigned flags)
{
	fprintf(stderr, "xsrun: eval or new Function: parser disabled: this image has no parser (bytecode only)\n");
	return C_NULL;
}

int xrSourceExists(const char* key)
{
	return 0;
}

void* xrLoadSource(void* machine, const char* key)
{
	txMachine* the = machine;
	mxReferenceError("module %s: not in the bundle, and this image has no parser to load source", key);
	return C_NULL;
}

int xrLoadMap(const char* path)
{
	fprintf(stderr, "xsrun: module maps need the compiler: this image runs its bundle only\n");
	return -1;
}

int xrCompileBundle(void* machine, const char* outPath, const char* cArrayPath, const char** keys, int count)
{
	fprintf(stderr, "xsrun: this image has no parser: precompile on the host (xsrun --compile)\n");
	return -1;
}
