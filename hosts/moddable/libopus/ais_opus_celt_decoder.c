// libopus's CELT decoder (celt/celt_decoder.c of CELT_SOURCES).
// One object per wrapper: the manifest cannot give C files their own flags, and these libopus files build
// together (docs/moddable.md). The list is libopus's own (test/moddable/natives.test.ts checks it).
#include "ais_opus_config.h"
#include "celt/celt_decoder.c"
