/*
 * Precompiled module bundle ("xsc-lite"): XS bytecode made on the host by this same engine build, read in
 * place from memory (a file read at start, or a C array in flash), so a device never parses source.
 *
 * The bytecode is prepared to execute in place, as Moddable's archives are: its symbol IDs are already the
 * machine's and functions and string literals use the engine's *_ARCHIVE opcodes, so the engine neither
 * remaps the code nor copies a function's bytecode or a string literal into chunks; a function's code slot
 * and a literal's string point into the bundle. The IDs hold because the machine registers the bundle's
 * symbol table, in its order, first thing after it is created (xrPrepareBundle), as the compiling machine
 * did, and checks each ID it gets against the one the code was compiled with.
 *
 * Layout, little-endian, every record 4-byte aligned:
 *   "XSRB", u8 format = 2, u8 XS major, minor, patch, u8 sizeof(txID), u8 flags (1: line numbers,
 *   2: CESU-8 strings), u16 0,
 *   u32 alias count, u32 module count, then records:
 *   u32 record bytes, u8 kind (1 alias, 2 module, 3 symbols), u8 0, u16 name bytes (with its NUL), then
 *     alias:   name (the specifier) NUL, key NUL
 *     module:  u32 code bytes, u32 0, name (the key) NUL, padding to 4, code
 *     symbols: u32 count, u32 the first name's key ID, name ("symbols") NUL, padding to 4, the count names
 *              NUL, their keys consecutive from the first (one symbols record, before the modules)
 * The bytecode depends on the engine version, sizeof(txID), the string encoding (string literals are
 * stored as the engine keeps strings) and the keys a new machine has; all four are checked.
 */
#ifndef XR_BUNDLE_H
#define XR_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#define XR_BUNDLE_FORMAT 2
#define XR_BUNDLE_HEADER 20
#define XR_BUNDLE_LINES 1
#define XR_BUNDLE_CESU8 2
#define XR_RECORD_ALIAS 1
#define XR_RECORD_MODULE 2
#define XR_RECORD_SYMBOLS 3

/* String literals in bytecode are in the engine's string encoding: a bundle says which. */
#ifdef mxCESU8
	#define XR_STRINGS XR_BUNDLE_CESU8
#else
	#define XR_STRINGS 0
#endif

typedef struct {
	const char* name;
	const char* key;             /* aliases */
	const unsigned char* code;   /* modules */
	uint32_t codeSize;
	const char* names;           /* symbols: count names from key firstID */
	size_t namesSize;
	uint32_t count;
	uint32_t firstID;
	uint8_t kind;
} xrBundleRecord;

/* Walks the records: start with offset 0; returns 0 at the end, -1 on a malformed record. */
int xrBundleNext(const unsigned char* data, size_t size, size_t* offset, xrBundleRecord* record);

static inline uint32_t xrRead32(const unsigned char* p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint16_t xrRead16(const unsigned char* p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

#endif
