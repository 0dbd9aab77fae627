// libopus's OPUS_SOURCES (the Opus layer over SILK and CELT).
// One object per wrapper: the manifest cannot give C files their own flags, and these libopus files build
// together (docs/moddable.md). The list is libopus's own (test/moddable/natives.test.ts checks it).
#include "ais_opus_config.h"
#include "src/opus.c"
#include "src/opus_decoder.c"
#include "src/opus_encoder.c"
#include "src/opus_multistream.c"
#include "src/opus_multistream_encoder.c"
#include "src/opus_multistream_decoder.c"
#include "src/repacketizer.c"
#include "src/opus_projection_encoder.c"
#include "src/opus_projection_decoder.c"
#include "src/mapping_matrix.c"
