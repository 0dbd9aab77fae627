/* The opus port's encoder setup, one for every binding: xsrun's and the image's (hosts/xs/xr_opus.c) and the
 * Moddable build's (hosts/moddable/opus-codec.c). */
#ifndef NATIVE_AIS_OPUS_H
#define NATIVE_AIS_OPUS_H

#include "opus.h"

#define AIS_OPUS_REASON_BYTES 128

/* A mono encoder at `rate` for `application` by the port's name (voip, audio, restricted-lowdelay), hard CBR at
   `bitrate` (the AIS uplink: every 20 ms frame the same size). NULL with a one-line reason when libopus refuses. */
OpusEncoder* ais_opus_encoder_create(opus_int32 rate, const char* application, opus_int32 bitrate, char reason[AIS_OPUS_REASON_BYTES]);

#endif
