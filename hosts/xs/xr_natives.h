/*
 * Natives of the XS hosts (xsrun and the Cortex-M image): C behind the ports, on a global `natives` object
 * that hosts/xs/aes-gcm.js and the device programs hand to src/'s wrappers of a binding; src/ never reads the global.
 */
#ifndef XR_NATIVES_H
#define XR_NATIVES_H

#include <stddef.h>

/* Defines the global `natives` (AES-GCM, Opus, the DSP of native/dsp). */
void xrInstallNatives(void* the);

/* The data of argument `index` when it is a Uint8Array (elementSize 1) or an Int16Array (2), in place: valid
   until the next allocation in the machine. `*count` is its length in elements. Otherwise a TypeError naming
   `name`. Written against the engine's internal API (xr_buffers.c): no property lookups, no allocation. */
void* xrTypedArrayArg(void* the, int index, int elementSize, size_t* count, const char* name);

#ifdef __XS__
/* natives[name] = a host function; during xrInstallNatives, where xsVar(0) is `natives` and xsVar(1) a scratch. */
void xrDefineNative(xsMachine* the, const char* name, xsCallback callback, int length);
#endif

/* What each group installs on `natives` (xr_crypto.c, xr_opus.c, xr_dsp.c). */
void xrInstallCryptoNatives(void* the);
void xrInstallOpusNatives(void* the);
void xrInstallDspNatives(void* the);

#endif
