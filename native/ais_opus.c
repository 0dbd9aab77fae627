/* ais_opus.h: the opus port's encoder over libopus (fixed point, from node_modules; native/native.mk). */
#include <stdio.h>
#include <string.h>
#include "ais_opus.h"

OpusEncoder* ais_opus_encoder_create(opus_int32 rate, const char* application, opus_int32 bitrate, char reason[AIS_OPUS_REASON_BYTES])
{
	int mode, status;
	OpusEncoder* encoder;
	if (!strcmp(application, "voip"))
		mode = OPUS_APPLICATION_VOIP;
	else if (!strcmp(application, "audio"))
		mode = OPUS_APPLICATION_AUDIO;
	else if (!strcmp(application, "restricted-lowdelay"))
		mode = OPUS_APPLICATION_RESTRICTED_LOWDELAY;
	else {
		snprintf(reason, AIS_OPUS_REASON_BYTES, "Opus application expected voip, audio or restricted-lowdelay, got %.32s", application);
		return NULL;
	}
	encoder = opus_encoder_create(rate, 1, mode, &status);
	if (status < 0) {
		snprintf(reason, AIS_OPUS_REASON_BYTES, "Opus encoder: %s", opus_strerror(status));
		return NULL;
	}
	if (opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate)) != OPUS_OK || opus_encoder_ctl(encoder, OPUS_SET_VBR(0)) != OPUS_OK) {
		opus_encoder_destroy(encoder);
		snprintf(reason, AIS_OPUS_REASON_BYTES, "Opus encoder: bitrate %d refused", (int)bitrate);
		return NULL;
	}
	return encoder;
}
