/*
 * Encodes 2 s of a deterministic 16 kHz signal (a chirp plus pseudo-random noise) in 20 ms frames, mono, hard CBR,
 * with the given application and bitrate, decodes every packet, and prints one line:
 *   frames=N bytes=B fnv=HASH correlation=C
 * HASH is FNV-1a over every packet and every decoded sample, so two builds of libopus that print the same line
 * encode and decode bit for bit alike. natives.test.ts links it against the Moddable wrappers of libopus and
 * against libopus built file by file as native/native.mk builds it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "opus.h"

#define RATE 16000
#define FRAME 320
#define FRAMES 100

int main(int argc, char** argv)
{
	const char* name = argc > 1 ? argv[1] : "voip";
	int bitrate = argc > 2 ? atoi(argv[2]) : 32000;
	int application = !strcmp(name, "audio") ? OPUS_APPLICATION_AUDIO
		: !strcmp(name, "restricted-lowdelay") ? OPUS_APPLICATION_RESTRICTED_LOWDELAY : OPUS_APPLICATION_VOIP;
	int status, i, n, total = 0;
	unsigned seed = 12345, hash = 2166136261u;
	static opus_int16 in[FRAMES * FRAME], out[FRAMES * FRAME];
	unsigned char packet[1500];
	double xy = 0, xx = 0, yy = 0, best = 0;
	OpusEncoder* encoder = opus_encoder_create(RATE, 1, application, &status);
	OpusDecoder* decoder;
	if (status != OPUS_OK) return 2;
	decoder = opus_decoder_create(RATE, 1, &status);
	if (status != OPUS_OK) return 2;
	opus_encoder_ctl(encoder, OPUS_SET_BITRATE(bitrate));
	opus_encoder_ctl(encoder, OPUS_SET_VBR(0));
	for (i = 0; i < FRAMES * FRAME; i++) {
		double t = (double)i / RATE;
		seed = seed * 1103515245u + 12345u;
		in[i] = (opus_int16)(9000 * sin(2 * M_PI * (200 + 400 * t) * t) + ((int)(seed >> 16) % 1000) - 500);
	}
	for (n = 0; n < FRAMES; n++) {
		int bytes = opus_encode(encoder, in + n * FRAME, FRAME, packet, sizeof packet);
		if (bytes < 0 || opus_decode(decoder, packet, bytes, out + n * FRAME, FRAME, 0) != FRAME) return 3;
		total += bytes;
		for (i = 0; i < bytes; i++) hash = (hash ^ packet[i]) * 16777619u;
		for (i = 0; i < FRAME; i++) hash = (hash ^ (unsigned short)out[n * FRAME + i]) * 16777619u;
	}
	/* The codec delays the signal a few ms: the best normalised correlation over lags 0..20 ms. */
	for (n = 0; n <= FRAME; n++) {
		xy = xx = yy = 0;
		for (i = FRAME; i + n < FRAMES * FRAME; i++) {
			xy += (double)in[i] * out[i + n];
			xx += (double)in[i] * in[i];
			yy += (double)out[i + n] * out[i + n];
		}
		if (xy / sqrt(xx * yy + 1) > best) best = xy / sqrt(xx * yy + 1);
	}
	printf("frames=%d bytes=%d fnv=%08x correlation=%.3f\n", FRAMES, total, hash, best);
	opus_encoder_destroy(encoder);
	opus_decoder_destroy(decoder);
	return 0;
}
