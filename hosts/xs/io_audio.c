/*
 * Audio in and out of xsrun (hosts/xs/io/audioin.js, audioout.js): ECMA-419 audio in the shape Moddable's
 * drivers give it, with WAV files standing in for the microphone and the loudspeaker, at real-time pace.
 *
 * Like Moddable's Linux drivers (modules/io/audioin/lin, modules/io/audioout/lin) the hardware moves one
 * period of `sampleRate / 32` sample frames at a time (31.25 ms at 16 kHz) through a queue of `queueLength`
 * periods (default 8), 16-bit LPCM. The clock is the run loop's: a period is due every periodMs from start(),
 * and a late loop catches up with every period it missed, as a DMA ring would have moved them.
 *   in:  each period appends `periodBytes` to the readable queue: the speech queued by say(path), else
 *        silence (a live microphone in a quiet room); a full queue drops its oldest bytes. onReadable(bytes,
 *        frames) then reports every readable byte; read() takes at most that many ("invalid size").
 *   out: each period the speaker takes `periodBytes` from the written queue, silence for what is missing,
 *        scales it by the volume and appends it to the WAV file (whose header is kept valid after every
 *        period, so a killed process leaves a playable file). onWritable(bytes, frames) reports the room
 *        left; write() beyond it is "invalid size". As on ESP32 (audioout-esp32.c), the room may be used
 *        any time, not only inside the callback (Linux's driver takes bytes only during it).
 * Buffers are plain malloc, outside the counted XS heap; a period allocates nothing.
 *
 * commands(onLine): stdin, one line per call, for the test or the developer to drive the device (the device
 * on xsrun reads `tap` and `say PATH` from it: hosts/xs/device.ts).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "xr_host.h"
#include "xr_io.h"
#include "xr_natives.h"

#define XR_AUDIO_MAGIC 0x41554449
#define XR_AUDIO_CATCH_UP 64   /* periods a late loop replays at most before the clock restarts from now */

typedef struct xrSpeech xrSpeech;
struct xrSpeech {
	int fd;
	size_t left;              /* data bytes still to say */
	xrSpeech* next;
};

typedef struct {
	xrIoSource source;        /* first: the loop's view of it */
	uint32_t magic;
	xsMachine* the;
	int output;
	int running;
	int closed;
	int announce;             /* out: report the room at the next dispatch (start) */
	unsigned sampleRate, bytesPerFrame;
	size_t periodBytes;
	double periodMs, startMs;
	uint64_t periods;         /* since start() */
	uint64_t producedBytes;   /* in: bytes the "microphone" made since open */
	unsigned char* ring;
	size_t ringCapacity, head, length;
	unsigned char* block;     /* one period */
	xsSlot target, callback;
	int remembered;
	xrSpeech* speech;         /* in */
	int fd;                   /* out: the WAV being written, or -1 */
	uint32_t dataBytes;
	int volume;               /* out: 0..256 */
} xrAudio;

static void xrAudioForget(xrAudio* audio)
{
	xsMachine* the = audio->the;
	if (!audio->remembered)
		return;
	audio->remembered = 0;
	xsForget(audio->target);
	xsForget(audio->callback);
}

/* Drops the queued speech; returns the data bytes it still had. */
static size_t xrAudioFreeSpeech(xrAudio* audio)
{
	size_t left = 0;
	while (audio->speech) {
		left += audio->speech->left;
		xrSpeech* next = audio->speech->next;
		close(audio->speech->fd);
		free(audio->speech);
		audio->speech = next;
	}
	return left;
}

static void xrAudioShut(xrAudio* audio)
{
	audio->closed = 1;
	audio->running = 0;
	audio->source.active = 0;
	xrAudioForget(audio);
	xrAudioFreeSpeech(audio);
	if (audio->fd >= 0) {
		close(audio->fd);
		audio->fd = -1;
	}
}

static void xrAudioRelease(xrIoSource* source)
{
	xrAudio* audio = (xrAudio*)source;
	free(audio->ring);
	free(audio->block);
	free(audio);
}

static void xrAudioDestructor(void* data)
{
	xrAudio* audio = data;
	if (!audio)
		return;
	/* During a collection: no XS calls. The callbacks were forgotten at close (or keep this alive). */
	audio->remembered = 0;
	xrAudioShut(audio);
	audio->source.dead = 1;
}

static xrAudio* xrAudioOf(xsMachine* the, int output)
{
	xrAudio* audio = xsIsInstanceOf(xsArg(0), xsObjectPrototype) ? xsGetHostData(xsArg(0)) : NULL;
	if (!audio || audio->magic != XR_AUDIO_MAGIC || (output >= 0 && audio->output != output))
		xsTypeError("not an audio %s", output == 1 ? "out" : output == 0 ? "in" : "device");
	if (audio->closed)
		xsUnknownError("audio %s closed", audio->output ? "out" : "in");
	return audio;
}

static void xrLittle32(unsigned char* at, uint32_t value)
{
	at[0] = value; at[1] = value >> 8; at[2] = value >> 16; at[3] = value >> 24;
}

static void xrAudioWavSizes(xrAudio* audio)
{
	unsigned char size[4];
	xrLittle32(size, 36 + audio->dataBytes);
	if (pwrite(audio->fd, size, 4, 4) != 4)
		goto fail;
	xrLittle32(size, audio->dataBytes);
	if (pwrite(audio->fd, size, 4, 40) != 4)
		goto fail;
	return;
fail:
	fprintf(stderr, "xsrun: audio out: writing the WAV failed: %s; recording stopped\n", strerror(errno));
	close(audio->fd);
	audio->fd = -1;
}

/* One period of the microphone: queued speech, then silence. */
static void xrAudioCapture(xrAudio* audio)
{
	size_t filled = 0, drop, at, first;
	while (filled < audio->periodBytes && audio->speech) {
		xrSpeech* speech = audio->speech;
		size_t want = audio->periodBytes - filled;
		ssize_t got = read(speech->fd, audio->block + filled, want < speech->left ? want : speech->left);
		if (got > 0) {
			filled += (size_t)got;
			speech->left -= (size_t)got;
		}
		if (got <= 0 || speech->left == 0) { /* the end, or a file cut short: the next one */
			audio->speech = speech->next;
			close(speech->fd);
			free(speech);
		}
	}
	memset(audio->block + filled, 0, audio->periodBytes - filled);
	audio->producedBytes += audio->periodBytes;
	if (audio->length + audio->periodBytes > audio->ringCapacity) { /* not read in time: the oldest bytes go */
		drop = audio->length + audio->periodBytes - audio->ringCapacity;
		audio->head = (audio->head + drop) % audio->ringCapacity;
		audio->length -= drop;
	}
	at = (audio->head + audio->length) % audio->ringCapacity;
	first = audio->ringCapacity - at < audio->periodBytes ? audio->ringCapacity - at : audio->periodBytes;
	memcpy(audio->ring + at, audio->block, first);
	memcpy(audio->ring, audio->block + first, audio->periodBytes - first);
	audio->length += audio->periodBytes;
}

/* One period of the loudspeaker: what was written, silence for the rest, into the WAV. */
static void xrAudioPlay(xrAudio* audio)
{
	size_t take = audio->length < audio->periodBytes ? audio->length : audio->periodBytes;
	size_t first = audio->ringCapacity - audio->head < take ? audio->ringCapacity - audio->head : take;
	memcpy(audio->block, audio->ring + audio->head, first);
	memcpy(audio->block + first, audio->ring, take - first);
	audio->head = (audio->head + take) % audio->ringCapacity;
	audio->length -= take;
	memset(audio->block + take, 0, audio->periodBytes - take);
	if (audio->volume < 256) {
		int16_t* sample = (int16_t*)audio->block;
		size_t i, count = take / 2;
		for (i = 0; i < count; i++)
			sample[i] = (int16_t)((sample[i] * audio->volume) >> 8);
	}
	if (audio->fd >= 0) {
		if (write(audio->fd, audio->block, audio->periodBytes) != (ssize_t)audio->periodBytes) {
			fprintf(stderr, "xsrun: audio out: writing the WAV failed: %s; recording stopped\n", strerror(errno));
			close(audio->fd);
			audio->fd = -1;
			return;
		}
		audio->dataBytes += (uint32_t)audio->periodBytes;
		xrAudioWavSizes(audio);
	}
}

static double xrAudioPrepare(xrIoSource* source, int* fd, short* events)
{
	xrAudio* audio = (xrAudio*)source;
	if (audio->announce)
		return 0;
	return audio->startMs + (double)(audio->periods + 1) * audio->periodMs;
}

static void xrAudioCall(xrAudio* audio, size_t bytes)
{
	xsMachine* the = audio->the;
	if (!audio->remembered || xsTypeOf(audio->callback) == xsUndefinedType)
		return;
	xsBeginHost(the);
	{
		xsTry {
			(void)xsCallFunction2(audio->callback, audio->target, xsInteger((xsIntegerValue)bytes),
				xsInteger((xsIntegerValue)(bytes / audio->bytesPerFrame)));
		}
		xsCatch {
			xrIoReportUncaught(the, audio->output ? "onWritable" : "onReadable");
		}
	}
	xsEndHost(the);
}

static void xrAudioDispatch(xrIoSource* source, short revents)
{
	xrAudio* audio = (xrAudio*)source;
	double now = xrClockMs();
	int moved = 0;
	while (audio->running && now >= audio->startMs + (double)(audio->periods + 1) * audio->periodMs) {
		if (moved == XR_AUDIO_CATCH_UP) { /* stalled for long (a debugger, SIGSTOP): the clock restarts */
			audio->startMs = now;
			audio->periods = 0;
			break;
		}
		if (audio->output)
			xrAudioPlay(audio);
		else
			xrAudioCapture(audio);
		audio->periods++;
		moved++;
	}
	if (!audio->running || (!moved && !audio->announce))
		return;
	audio->announce = 0;
	if (audio->output) {
		if (audio->length < audio->ringCapacity)
			xrAudioCall(audio, audio->ringCapacity - audio->length);
	}
	else if (audio->length)
		xrAudioCall(audio, audio->length);
}

/* open(output, sampleRate, channels, queueLength, periodFrames, target, callback, path) */
static void xr_audio_open(xsMachine* the)
{
	int output = xsToBoolean(xsArg(0));
	int sampleRate = xsToInteger(xsArg(1));
	int channels = xsToInteger(xsArg(2));
	int queueLength = xsToInteger(xsArg(3));
	int periodFrames = xsToInteger(xsArg(4));
	xrAudio* audio;
	if (sampleRate < 8000 || sampleRate > 48000)
		xsRangeError("invalid sample rate %d", sampleRate);
	if (channels != 1 && channels != 2)
		xsRangeError("invalid number of channels %d", channels);
	if (queueLength < 2)
		xsRangeError("invalid queue length %d", queueLength);
	if (periodFrames <= 0)
		periodFrames = sampleRate >> 5;
	audio = calloc(1, sizeof *audio);
	if (!audio)
		xsRangeError("not enough memory");
	audio->magic = XR_AUDIO_MAGIC;
	audio->the = the;
	audio->output = output;
	audio->fd = -1;
	audio->volume = 256;
	audio->sampleRate = (unsigned)sampleRate;
	audio->bytesPerFrame = 2 * (unsigned)channels;
	audio->periodBytes = (size_t)periodFrames * audio->bytesPerFrame;
	audio->periodMs = (double)periodFrames * 1000.0 / sampleRate;
	audio->ringCapacity = audio->periodBytes * (size_t)queueLength;
	audio->ring = malloc(audio->ringCapacity);
	audio->block = malloc(audio->periodBytes);
	if (!audio->ring || !audio->block) {
		xrAudioRelease(&audio->source);
		xsRangeError("not enough memory");
	}
	if (output && xsTypeOf(xsArg(7)) == xsStringType) {
		const char* path = xsToString(xsArg(7));
		unsigned char header[44];
		uint32_t rate = audio->sampleRate;
		audio->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (audio->fd < 0) {
			int error = errno;
			xrAudioRelease(&audio->source);
			xsUnknownError("audio out: cannot create %s: %s", path, strerror(error));
		}
		memcpy(header, "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0", 22);
		header[22] = (unsigned char)channels; header[23] = 0;
		xrLittle32(header + 24, rate);
		xrLittle32(header + 28, rate * audio->bytesPerFrame);
		header[32] = (unsigned char)audio->bytesPerFrame; header[33] = 0;
		header[34] = 16; header[35] = 0;
		memcpy(header + 36, "data\0\0\0\0", 8);
		if (write(audio->fd, header, sizeof header) != sizeof header) {
			int error = errno;
			close(audio->fd);
			xrAudioRelease(&audio->source);
			xsUnknownError("audio out: cannot write %s: %s", path, strerror(error));
		}
		xrAudioWavSizes(audio);
	}
	audio->source.prepare = xrAudioPrepare;
	audio->source.dispatch = xrAudioDispatch;
	audio->source.release = xrAudioRelease;
	audio->target = xsArg(5);
	audio->callback = xsArg(6);
	xsRemember(audio->target);
	xsRemember(audio->callback);
	audio->remembered = 1;
	xrIoAddSource(&audio->source);
	xsResult = xsNewHostObject(xrAudioDestructor);
	xsSetHostData(xsResult, audio);
}

static void xr_audio_start(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, -1);
	if (audio->running)
		return;
	audio->running = 1;
	audio->source.active = 1;
	audio->startMs = xrClockMs();
	audio->periods = 0;
	audio->announce = audio->output;
}

static void xr_audio_stop(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, -1);
	audio->running = 0;
	audio->source.active = 0;
	if (audio->output)
		audio->head = audio->length = 0; /* playback stops now: what was written and not played is dropped */
}

static void xr_audio_close(xsMachine* the)
{
	xrAudio* audio = xsIsInstanceOf(xsArg(0), xsObjectPrototype) ? xsGetHostData(xsArg(0)) : NULL;
	if (audio && audio->magic == XR_AUDIO_MAGIC && !audio->closed)
		xrAudioShut(audio);
}

/* The bytes of argument 1, a Uint8Array or (argument 2 is 2) an Int16Array, in place. */
static unsigned char* xrAudioView(xsMachine* the, size_t* bytes, const char* name)
{
	size_t count;
	int elementSize = xsToInteger(xsArg(2)) == 2 ? 2 : 1;
	unsigned char* data = xrTypedArrayArg(the, 1, elementSize, &count, name);
	*bytes = count * (size_t)elementSize;
	return data;
}

/* read(handle, view, elementSize): fills the view from the readable bytes; returns its byte length. */
static void xr_audio_read(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 0);
	size_t bytes, first;
	unsigned char* into = xrAudioView(the, &bytes, "audio in read()");
	if (bytes == 0 || bytes > audio->length)
		xsUnknownError("invalid size: read of %lu bytes, %lu readable", (unsigned long)bytes, (unsigned long)audio->length);
	first = audio->ringCapacity - audio->head < bytes ? audio->ringCapacity - audio->head : bytes;
	memcpy(into, audio->ring + audio->head, first);
	memcpy(into + first, audio->ring, bytes - first);
	audio->head = (audio->head + bytes) % audio->ringCapacity;
	audio->length -= bytes;
	xsResult = xsInteger((xsIntegerValue)bytes);
}

static void xr_audio_readable(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 0);
	xsResult = xsInteger((xsIntegerValue)audio->length);
}

/* write(handle, view, elementSize): queues the view's bytes for the speaker; returns their count. */
static void xr_audio_write(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 1);
	size_t bytes, at, first, room = audio->ringCapacity - audio->length;
	unsigned char* data = xrAudioView(the, &bytes, "audio out write()");
	if (bytes == 0 || bytes > room)
		xsUnknownError("invalid size: write of %lu bytes, %lu writable", (unsigned long)bytes, (unsigned long)room);
	at = (audio->head + audio->length) % audio->ringCapacity;
	first = audio->ringCapacity - at < bytes ? audio->ringCapacity - at : bytes;
	memcpy(audio->ring + at, data, first);
	memcpy(audio->ring, data + first, bytes - first);
	audio->length += bytes;
	xsResult = xsInteger((xsIntegerValue)bytes);
}

static void xr_audio_set_volume(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 1);
	int volume = xsToInteger(xsArg(1));
	audio->volume = volume < 0 ? 0 : volume > 256 ? 256 : volume;
}

static int xrReadAll(int fd, unsigned char* into, size_t length)
{
	size_t done = 0;
	while (done < length) {
		ssize_t got = read(fd, into + done, length - done);
		if (got <= 0)
			return -1;
		done += (size_t)got;
	}
	return 0;
}

/* say(handle, path): queues a WAV (16-bit PCM, the input's rate and channels) after the speech already
   queued; returns the sample frame, counted from open, at which it starts. */
static void xr_audio_say(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 0);
	char path[512];
	unsigned char chunk[16];
	int fd, formatOk = 0, channels = 0, bits = 0;
	uint32_t rate = 0;
	xrSpeech* speech;
	xrSpeech** last;
	uint64_t at;
	snprintf(path, sizeof path, "%s", xsToString(xsArg(1)));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		xsUnknownError("audio in: cannot open %s: %s", path, strerror(errno));
	if (xrReadAll(fd, chunk, 12) < 0 || memcmp(chunk, "RIFF", 4) || memcmp(chunk + 8, "WAVE", 4)) {
		close(fd);
		xsTypeError("audio in: %s is not a RIFF/WAVE file", path);
	}
	for (;;) {
		uint32_t size;
		if (xrReadAll(fd, chunk, 8) < 0) {
			close(fd);
			xsTypeError("audio in: %s has no data chunk", path);
		}
		size = chunk[4] | (chunk[5] << 8) | (chunk[6] << 16) | ((uint32_t)chunk[7] << 24);
		if (!memcmp(chunk, "data", 4))
			break;
		if (!memcmp(chunk, "fmt ", 4) && size >= 16) {
			if (xrReadAll(fd, chunk, 16) < 0)
				break;
			formatOk = chunk[0] == 1 && chunk[1] == 0;
			channels = chunk[2] | (chunk[3] << 8);
			rate = chunk[4] | (chunk[5] << 8) | (chunk[6] << 16) | ((uint32_t)chunk[7] << 24);
			bits = chunk[14] | (chunk[15] << 8);
			size -= 16;
		}
		if (lseek(fd, (off_t)size + (size & 1), SEEK_CUR) < 0) {
			close(fd);
			xsTypeError("audio in: %s is cut short", path);
		}
	}
	if (!formatOk || bits != 16 || (unsigned)channels * 2 != audio->bytesPerFrame || rate != audio->sampleRate) {
		close(fd);
		xsTypeError("audio in: %s must be 16-bit PCM, %u channel(s) at %u Hz; it is %s%d-bit, %d channel(s), %u Hz",
			path, audio->bytesPerFrame / 2, audio->sampleRate, formatOk ? "" : "not PCM, ", bits, channels, (unsigned)rate);
	}
	speech = calloc(1, sizeof *speech);
	if (!speech) {
		close(fd);
		xsRangeError("not enough memory");
	}
	speech->fd = fd;
	speech->left = (size_t)(chunk[4] | (chunk[5] << 8) | (chunk[6] << 16) | ((uint32_t)chunk[7] << 24)) & ~(size_t)(audio->bytesPerFrame - 1);
	at = audio->producedBytes;
	for (last = &audio->speech; *last; last = &(*last)->next)
		at += (*last)->left;
	*last = speech;
	xsResult = xsNumber((double)(at / audio->bytesPerFrame));
}

/* abandon(handle): the speech queued by say() is dropped (the person stops talking: their turn failed), silence
   follows; returns the sample frames dropped. */
static void xr_audio_abandon(xsMachine* the)
{
	xrAudio* audio = xrAudioOf(the, 0);
	xsResult = xsNumber((double)(xrAudioFreeSpeech(audio) / audio->bytesPerFrame));
}

/* commands(onLine): stdin, a line at a time, until its end. */
typedef struct {
	xrIoSource source;
	xsMachine* the;
	xsSlot callback;
	char line[1024];
	size_t length;
} xrLines;

static xrLines xrStdinLines;

static double xrLinesPrepare(xrIoSource* source, int* fd, short* events)
{
	*fd = 0;
	*events = POLLIN;
	return -1;
}

static void xrLinesEnd(xrLines* lines)
{
	xsMachine* the = lines->the;
	lines->source.active = 0;
	xsForget(lines->callback);
}

static void xrLinesDispatch(xrIoSource* source, short revents)
{
	xrLines* lines = (xrLines*)source;
	xsMachine* the = lines->the;
	ssize_t got;
	size_t start = 0, i;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	got = read(0, lines->line + lines->length, sizeof lines->line - 1 - lines->length);
	if (got <= 0) {
		if (got < 0 && errno == EINTR)
			return;
		xrLinesEnd(lines);
		return;
	}
	lines->length += (size_t)got;
	for (i = 0; i < lines->length && lines->source.active; i++) {
		if (lines->line[i] != '\n')
			continue;
		lines->line[i] = 0;
		xsBeginHost(the);
		{
			xsTry {
				(void)xsCallFunction1(lines->callback, xsUndefined, xsString(lines->line + start));
			}
			xsCatch {
				xrIoReportUncaught(the, "a command from stdin");
			}
		}
		xsEndHost(the);
		start = i + 1;
	}
	memmove(lines->line, lines->line + start, lines->length - start);
	lines->length -= start;
	if (lines->length == sizeof lines->line - 1)
		lines->length = 0; /* a line too long for the buffer: dropped */
}

static void xrLinesRelease(xrIoSource* source)
{
}

static void xr_audio_commands(xsMachine* the)
{
	xrLines* lines = &xrStdinLines;
	if (!xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("commands(onLine): onLine must be a function");
	if (lines->source.active)
		xsUnknownError("stdin is read already");
	lines->the = the;
	lines->callback = xsArg(0);
	xsRemember(lines->callback);
	lines->length = 0;
	if (!lines->source.prepare) {
		lines->source.prepare = xrLinesPrepare;
		lines->source.dispatch = xrLinesDispatch;
		lines->source.release = xrLinesRelease;
		xrIoAddSource(&lines->source);
	}
	lines->source.active = 1;
}

void xrIoInstallAudio(xsMachine* the, xsSlot* target)
{
	xrIoDefine(the, target, XR_IO_SCRATCH, "open", xr_audio_open, 8);
	xrIoDefine(the, target, XR_IO_SCRATCH, "start", xr_audio_start, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "stop", xr_audio_stop, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "close", xr_audio_close, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "read", xr_audio_read, 3);
	xrIoDefine(the, target, XR_IO_SCRATCH, "readable", xr_audio_readable, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "write", xr_audio_write, 3);
	xrIoDefine(the, target, XR_IO_SCRATCH, "setVolume", xr_audio_set_volume, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "say", xr_audio_say, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "abandon", xr_audio_abandon, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "commands", xr_audio_commands, 1);
}
