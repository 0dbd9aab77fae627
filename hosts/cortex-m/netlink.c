/*
 * The image's network and audio, through a co-processor on the CMSDK UART1 (netlink.h): the UART driver, the
 * link protocol, and the natives behind the ECMA-419 modules the image serves, in the same shape as xsrun's
 * (hosts/xs/io_tcp.c), so hosts/xs/io/tcp.js, tls.js and stream.js run here unchanged and hosts/moddable's
 * adapter serves the socket port:
 *   xsrun.io.tcp  open(options, target), read, readable, write, writable, close
 *   xsrun.io.tls  open(address, port, serverName, secure, options, target), and the same five
 *   xsrun.io.audio open("in" | "out", options, target), start, stop, read, readable, write, writable, close
 *   xsrun.io.random(arrayBuffer, offset, length)   bytes from the co-processor's random source
 *   xsrun.io.onEvent(text)                          set by the program: board events (a button)
 * xr_host.c reaches xrIoInstall and xrIoWait through weak symbols: this file gives the image both.
 *
 * Receiving: the RX interrupt moves bytes into a ring; the run loop (xrIoWait) parses whole frames out of it,
 * checks their CRC and copies payloads into each channel's buffer. The co-processor never sends more than the
 * ring holds (link credit) nor more socket bytes than the socket's buffer holds (socket window), so the ring
 * always drains and one slow socket never blocks the others. Sending is polled (QEMU's UART takes a byte at
 * once; a board would feed TX by DMA).
 *
 * TLS runs in the co-processor: the board sends the trust anchor, certificates and key once per link as CERT
 * frames named by their FNV-1a hash, and OPEN names them (docs/firmware.md says what TLS on the MCU would add).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "board.h"
#include "netlink.h"
#include "xr_host.h"
#include "xr_io.h"
#include "xr_runner.h"

#define UART1_BASE 0x40005000u
#define UART1_DATA REG32(UART1_BASE + 0x00)
#define UART1_STATE REG32(UART1_BASE + 0x04)
#define UART1_CTRL REG32(UART1_BASE + 0x08)
#define UART1_INTSTATUS REG32(UART1_BASE + 0x0C)
#define UART1_BAUDDIV REG32(UART1_BASE + 0x10)
#define UART_STATE_RX_FULL 2u
#define UART_CTRL_RX_INT 8u
#define UART_INT_RX 2u
/* mps2-an500: UART1's RX interrupt is external interrupt 2 (TX is 3). */
#define UART1_RX_IRQ 2u
#define NVIC_ISER0 REG32(0xE000E100)

/* The RX ring: the interrupt writes at `rxTail`, the loop reads at `rxHead`. */
static uint8_t rxRing[LINK_RX_RING];
static volatile uint32_t rxTail;
static uint32_t rxHead;
static volatile uint32_t rxOverruns;
static uint32_t rxConsumedSinceCredit;
static uint32_t linkCrcErrors;

/* Link figures for the exit report and the bench. */
static uint32_t linkBytesIn, linkBytesOut, linkFramesIn, linkFramesOut;

/* Time in the link's stages, in SysTick counts (25 MHz: 40 ns, and 40 instructions under QEMU's -icount
   shift=0), for the per-frame figures: the RX interrupt (every byte), and per frame kind the parsing with its
   CRC and copy (received) or the CRC and UART writes (sent). Each reading is shorter than SysTick's 1 ms period. */
enum { STAGE_AUDIO, STAGE_SOCKET, STAGE_OTHER, STAGES };
static uint32_t rxIsrTicks, rxIsrBytes;
static uint32_t parseTicks[STAGES], parseFrames[STAGES], parseBytes[STAGES], sendTicks[STAGES], sendFrames[STAGES], sendBytes[STAGES];
#define SYSTICK_PERIOD (BOARD_SYSCLK_HZ / 1000u)

static uint32_t ticks_since(uint32_t start)
{
	uint32_t now = SYST_CVR; /* counts down */
	return start >= now ? start - now : start + SYSTICK_PERIOD - now;
}

static int stage_of(uint8_t type)
{
	if (type == LINK_AUDIO_IN || type == LINK_AUDIO_OUT)
		return STAGE_AUDIO;
	if (type == LINK_PEER_DATA || type == LINK_DATA)
		return STAGE_SOCKET;
	return STAGE_OTHER;
}

void UART1_RX_Handler(void)
{
	uint32_t start = SYST_CVR;
	/* Cleared first: a byte that lands after the loop raises it again (cleared after, its interrupt is lost
	   and the UART holds that byte, with every later one, until something reads it). */
	UART1_INTSTATUS = UART_INT_RX;
	while (UART1_STATE & UART_STATE_RX_FULL) {
		uint32_t tail = rxTail;
		uint8_t byte = (uint8_t)UART1_DATA;
		if (tail - rxHead < LINK_RX_RING) {
			rxRing[tail % LINK_RX_RING] = byte;
			rxTail = tail + 1;
		}
		else
			rxOverruns++; /* the co-processor broke the link credit */
		rxIsrBytes++;
	}
	rxIsrTicks += ticks_since(start);
}

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), a nibble at a time: 32 bytes of table. */
static const uint16_t crcNibble[16] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
	0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
};

uint16_t link_crc16(uint16_t crc, const uint8_t* data, uint32_t length)
{
	while (length--) {
		crc = (uint16_t)((crc << 4) ^ crcNibble[((crc >> 12) ^ (*data >> 4)) & 0xF]);
		crc = (uint16_t)((crc << 4) ^ crcNibble[((crc >> 12) ^ (*data & 0xF)) & 0xF]);
		data++;
	}
	return crc;
}

static void uart_put(uint8_t byte)
{
	while (UART1_STATE & UART_STATE_TX_FULL)
		;
	UART1_DATA = byte;
}

static void uart_write(const uint8_t* data, uint32_t length)
{
	while (length--)
		uart_put(*data++);
}

/* One frame from two parts (a header-like prefix and a body), so callers need not join them. */
static void link_send2(uint8_t type, uint8_t channel, const uint8_t* first, uint32_t firstLength, const uint8_t* second, uint32_t secondLength)
{
	uint8_t header[LINK_HEADER];
	uint32_t length = firstLength + secondLength;
	uint32_t start = SYST_CVR;
	uint16_t crc;
	header[0] = LINK_SYNC;
	header[1] = type;
	header[2] = channel;
	header[3] = (uint8_t)length;
	header[4] = (uint8_t)(length >> 8);
	crc = link_crc16(0xFFFF, header + 1, LINK_HEADER - 1);
	crc = link_crc16(crc, first, firstLength);
	crc = link_crc16(crc, second, secondLength);
	uart_write(header, LINK_HEADER);
	uart_write(first, firstLength);
	uart_write(second, secondLength);
	uart_put((uint8_t)crc);
	uart_put((uint8_t)(crc >> 8));
	linkBytesOut += LINK_HEADER + length + 2;
	linkFramesOut++;
	sendTicks[stage_of(type)] += ticks_since(start);
	sendFrames[stage_of(type)]++;
	sendBytes[stage_of(type)] += LINK_HEADER + length + 2;
}

static void link_send(uint8_t type, uint8_t channel, const uint8_t* payload, uint32_t length)
{
	link_send2(type, channel, payload, length, NULL, 0);
}

static void put32(uint8_t* at, uint32_t value)
{
	at[0] = (uint8_t)value;
	at[1] = (uint8_t)(value >> 8);
	at[2] = (uint8_t)(value >> 16);
	at[3] = (uint8_t)(value >> 24);
}

static uint32_t get32(const uint8_t* at)
{
	return (uint32_t)at[0] | ((uint32_t)at[1] << 8) | ((uint32_t)at[2] << 16) | ((uint32_t)at[3] << 24);
}

/* Channels: sockets and the two audio directions. */

enum { CH_FREE, CH_SOCKET, CH_AUDIO_IN, CH_AUDIO_OUT };
enum { ST_OPENING, ST_READY, ST_FAILED, ST_CLOSED };

typedef struct {
	int kind;
	int state;
	int remembered;
	xsMachine* the;
	xsSlot target, onReadable, onWritable, onError;
	/* Readable bytes: a ring of `capacity` (sockets: the window; audio in: whole frames). */
	uint8_t* in;
	uint32_t inCapacity, inStart, inLength;
	uint32_t announced;       /* readable count the last onReadable gave */
	uint32_t readSinceCredit; /* sockets: bytes read, not yet returned as CREDIT */
	/* Sockets: bytes sent and not yet passed on by the co-processor, within `sendWindow`. */
	uint32_t unacknowledged, sendWindow;
	/* Audio out: the partial frame being gathered. */
	uint8_t* staging;
	uint32_t staged;
	int writableWanted;
	int started;
	uint32_t dropped;          /* audio in: frames lost because the program fell behind */
	int peerClosed;            /* sockets: CLOSED came; the error follows once every byte is read */
	char error[160];
	char label[80];
} Channel;

static Channel channels[LINK_CHANNELS];
static int linkReady = 0;

/* Frames the co-processor's speaker can take: a property of the link, not of an audio-out channel, so it survives
   stop/start and close/open. Every AUDIO_OUT takes one; each comes back once, by AUDIO_PLAYED when it played or by
   AUDIO_FLUSHED when AUDIO_OUT_FLUSH dropped it, so it neither leaks nor overflows LINK_SPEAKER_FRAMES. */
static uint32_t speakerWindow;
static uint32_t speakerFlushes, speakerFlushedFrames;
static uint32_t speakerOverCredits; /* frames credited beyond LINK_SPEAKER_FRAMES: a protocol error, for the tests */

/* Names of the certificates and keys already given to the co-processor on this link. */
#define LINK_CERT_NAMES 8
static uint32_t certNames[LINK_CERT_NAMES];
static int certCount;

/* The provisioning record as it arrives (LINK_CONFIG pieces), complete when configDone. */
#define LINK_MAX_CONFIG 8192u
static char* configText;
static uint32_t configLength;
static int configDone;

/* Random bytes the co-processor sent ahead of need. */
static uint8_t randomPool[256];
static uint32_t randomLength;

/* The link's own heap (socket windows, audio in, the speaker's staging frame, the provisioning record), counted
   for the RAM budget by owner (linkStats().heapBytes, heapPeak). */
static uint32_t linkHeapBytes, linkHeapPeak;

static void* link_alloc(uint32_t bytes)
{
	void* block = malloc(bytes);
	if (block) {
		linkHeapBytes += bytes;
		if (linkHeapPeak < linkHeapBytes)
			linkHeapPeak = linkHeapBytes;
	}
	return block;
}

static void link_release(void* block, uint32_t bytes)
{
	if (!block)
		return;
	linkHeapBytes -= bytes;
	free(block);
}

static void channel_fail(Channel* ch, const char* reason)
{
	if (ch->state == ST_FAILED || ch->state == ST_CLOSED)
		return;
	snprintf(ch->error, sizeof ch->error, "%s", reason);
	ch->state = ST_FAILED;
}

static void channel_forget(Channel* ch)
{
	xsMachine* the = ch->the;
	if (!ch->remembered)
		return;
	ch->remembered = 0;
	xsForget(ch->target);
	xsForget(ch->onReadable);
	xsForget(ch->onWritable);
	xsForget(ch->onError);
}

/* Ends a channel: nothing is reported after it; its memory goes when its handle is collected. */
static void channel_shut(Channel* ch)
{
	if (ch->kind == CH_SOCKET && (ch->state == ST_OPENING || ch->state == ST_READY))
		link_send(LINK_CLOSE, (uint8_t)(ch - channels), NULL, 0);
	if (ch->kind == CH_AUDIO_IN && ch->started)
		link_send(LINK_AUDIO_IN_STOP, 0, NULL, 0);
	if (ch->kind == CH_AUDIO_OUT && ch->started)
		link_send(LINK_AUDIO_OUT_FLUSH, 0, NULL, 0); /* closed: what it wrote is not heard any more */
	ch->started = 0;
	if (ch->state != ST_FAILED)
		ch->state = ST_CLOSED;
	channel_forget(ch);
}

static void channel_destructor(void* data)
{
	Channel* ch = data;
	if (!ch || ch->kind == CH_FREE)
		return;
	channel_shut(ch);
	link_release(ch->in, ch->inCapacity);
	link_release(ch->staging, LINK_AUDIO_FRAME_BYTES);
	memset(ch, 0, sizeof *ch);
}

static Channel* channel_new(xsMachine* the, int kind, uint32_t capacity, const char* label)
{
	uint32_t i;
	for (i = 0; i < LINK_CHANNELS; i++) {
		Channel* ch = &channels[i];
		if (ch->kind != CH_FREE)
			continue;
		memset(ch, 0, sizeof *ch);
		ch->in = capacity ? link_alloc(capacity) : NULL;
		if (capacity && !ch->in)
			xsRangeError("no memory for a link channel");
		ch->inCapacity = capacity;
		ch->kind = kind;
		ch->the = the;
		ch->state = ST_OPENING;
		snprintf(ch->label, sizeof ch->label, "%s", label);
		return ch;
	}
	xsRangeError("all %d link channels in use", (int)LINK_CHANNELS);
	return NULL;
}

static Channel* channel_of(xsMachine* the, xsSlot* handle, int kind)
{
	Channel* ch;
	if (!xsIsInstanceOf(*handle, xsObjectPrototype))
		xsTypeError("not a link channel");
	ch = xsGetHostData(*handle);
	if (!ch || ch->kind != kind)
		xsTypeError("not a link channel of this kind");
	return ch;
}

static void bind_callback(xsMachine* the, xsSlot* options, const char* name, xsSlot* into)
{
	xsSlot value = xsGet(*options, xsID(name));
	if (xsTypeOf(value) == xsUndefinedType) {
		*into = xsUndefined;
		return;
	}
	if (!xsIsInstanceOf(value, xsFunctionPrototype))
		xsTypeError("%s must be a function", name);
	*into = value;
}

static void channel_bind(Channel* ch, xsSlot* target, xsSlot* options)
{
	xsMachine* the = ch->the;
	bind_callback(the, options, "onReadable", &ch->onReadable);
	bind_callback(the, options, "onWritable", &ch->onWritable);
	bind_callback(the, options, "onError", &ch->onError);
	ch->target = *target;
	xsRemember(ch->target);
	xsRemember(ch->onReadable);
	xsRemember(ch->onWritable);
	xsRemember(ch->onError);
	ch->remembered = 1;
}

static void channel_handle(xsMachine* the, Channel* ch)
{
	xsResult = xsNewHostObject(channel_destructor);
	xsSetHostData(xsResult, ch);
}

/* Copies `length` ring bytes from `offset` after the ring's head (the frame being parsed). */
static void ring_copy(uint8_t* into, uint32_t offset, uint32_t length)
{
	uint32_t at = (rxHead + offset) % LINK_RX_RING;
	uint32_t first = LINK_RX_RING - at < length ? LINK_RX_RING - at : length;
	memcpy(into, rxRing + at, first);
	memcpy(into + first, rxRing, length - first);
}

static uint8_t ring_at(uint32_t offset)
{
	return rxRing[(rxHead + offset) % LINK_RX_RING];
}

/* Appends a frame's payload to a channel's readable ring; the caller checked the room. */
static void channel_deliver(Channel* ch, uint32_t offset, uint32_t length)
{
	while (length) {
		uint32_t end = (ch->inStart + ch->inLength) % ch->inCapacity;
		uint32_t run = ch->inCapacity - end < length ? ch->inCapacity - end : length;
		ring_copy(ch->in + end, offset, run);
		ch->inLength += run;
		offset += run;
		length -= run;
	}
}

static void link_dispatch(uint8_t type, uint8_t index, uint32_t length)
{
	Channel* ch = index < LINK_CHANNELS ? &channels[index] : NULL;
	uint8_t small[8];
	switch (type) {
	case LINK_OPENED:
		if (ch && ch->kind == CH_SOCKET && ch->state == ST_OPENING && length == 4) {
			ring_copy(small, LINK_HEADER, 4);
			ch->sendWindow = get32(small);
			ch->state = ST_READY;
			ch->writableWanted = 1;
		}
		break;
	case LINK_PEER_DATA:
		if (!ch || ch->kind != CH_SOCKET || (ch->state != ST_READY && ch->state != ST_FAILED))
			break;
		if (ch->state == ST_READY && ch->inLength + length > ch->inCapacity)
			channel_fail(ch, "the co-processor overran the socket window");
		else if (ch->state == ST_READY)
			channel_deliver(ch, LINK_HEADER, length);
		break;
	case LINK_CLOSED:
		if (ch && ch->kind == CH_SOCKET && (ch->state == ST_OPENING || ch->state == ST_READY)) {
			char reason[sizeof ch->error];
			uint32_t n = length < sizeof reason - 1 ? length : sizeof reason - 1;
			ring_copy((uint8_t*)reason, LINK_HEADER, n);
			reason[n] = 0;
			if (n == 0)
				snprintf(reason, sizeof reason, "%s: connection closed by the peer", ch->label);
			/* Readable bytes stay readable; the error comes once they are read (as io_tcp.c does). Writes within
			   the count onWritable gave stay allowed meanwhile (socket_write drops them), as TCP's after a FIN. */
			snprintf(ch->error, sizeof ch->error, "%s", reason);
			ch->state = ch->state == ST_OPENING ? ST_FAILED : ST_READY;
			ch->peerClosed = 1;
		}
		break;
	case LINK_SENT:
		if (ch && ch->kind == CH_SOCKET && length == 4) {
			uint32_t n;
			ring_copy(small, LINK_HEADER, 4);
			n = get32(small);
			ch->unacknowledged = ch->unacknowledged > n ? ch->unacknowledged - n : 0;
			ch->writableWanted = 1;
		}
		break;
	case LINK_RANDOM:
		if (length > sizeof randomPool - randomLength)
			length = sizeof randomPool - randomLength;
		ring_copy(randomPool + randomLength, LINK_HEADER, length);
		randomLength += length;
		break;
	case LINK_CONFIG:
		if (length == 0)
			configDone = 1;
		else if (configText && configLength + length < LINK_MAX_CONFIG) {
			ring_copy((uint8_t*)configText + configLength, LINK_HEADER, length);
			configLength += length;
		}
		break;
	case LINK_AUDIO_IN: {
		uint32_t i;
		for (i = 0; i < LINK_CHANNELS; i++) {
			Channel* audio = &channels[i];
			if (audio->kind != CH_AUDIO_IN || !audio->started || length != LINK_AUDIO_FRAME_BYTES)
				continue;
			if (audio->inLength + length > audio->inCapacity)
				audio->dropped++; /* the program fell behind: the frame is lost, as at a DMA overrun */
			else
				channel_deliver(audio, LINK_HEADER, length);
		}
		break;
	}
	case LINK_AUDIO_PLAYED:
	case LINK_AUDIO_FLUSHED:
		if (length == 2) {
			uint32_t i, count;
			ring_copy(small, LINK_HEADER, 2);
			count = (uint32_t)small[0] | ((uint32_t)small[1] << 8);
			if (type == LINK_AUDIO_FLUSHED) {
				speakerFlushes++;
				speakerFlushedFrames += count;
			}
			/* Counted whether or not a channel is started: the frames were sent, so they come back. */
			speakerWindow += count;
			if (speakerWindow > LINK_SPEAKER_FRAMES) {
				speakerOverCredits += speakerWindow - LINK_SPEAKER_FRAMES;
				speakerWindow = LINK_SPEAKER_FRAMES;
			}
			for (i = 0; i < LINK_CHANNELS; i++) {
				Channel* audio = &channels[i];
				if (audio->kind == CH_AUDIO_OUT && audio->started)
					audio->writableWanted = 1;
			}
		}
		break;
	case LINK_EVENT:
		break; /* reported by link_report, which can call JavaScript */
	default:
		break;
	}
}

/* An event frame waiting for JavaScript (the button): copied out of the ring as it is parsed. */
static char pendingEvent[64];
static int hasPendingEvent;

/* Parses every whole frame in the ring. Returns the number of frames taken. */
static int link_poll(void)
{
	int frames = 0;
	/* A byte the interrupt did not take (none is lost, but be sure before sleeping). */
	__asm volatile("cpsid i" ::: "memory");
	UART1_RX_Handler();
	__asm volatile("cpsie i" ::: "memory");
	for (;;) {
		uint32_t available = rxTail - rxHead;
		uint32_t length, total, start = SYST_CVR;
		uint16_t crc;
		uint8_t header[LINK_HEADER];
		if (available == 0)
			break;
		if (ring_at(0) != LINK_SYNC) {
			rxHead++;
			rxConsumedSinceCredit++;
			linkCrcErrors++;
			continue;
		}
		if (available < LINK_HEADER)
			break;
		ring_copy(header, 0, LINK_HEADER);
		length = (uint32_t)header[3] | ((uint32_t)header[4] << 8);
		total = LINK_HEADER + length + 2;
		if (length > LINK_MAX_PAYLOAD) {
			rxHead++;
			rxConsumedSinceCredit++;
			linkCrcErrors++;
			continue;
		}
		if (available < total)
			break;
		crc = link_crc16(0xFFFF, header + 1, LINK_HEADER - 1);
		{
			uint32_t i;
			for (i = 0; i < length; i++) {
				uint8_t byte = ring_at(LINK_HEADER + i);
				crc = link_crc16(crc, &byte, 1);
			}
		}
		if ((uint16_t)(ring_at(LINK_HEADER + length) | (ring_at(LINK_HEADER + length + 1) << 8)) != crc) {
			/* A damaged frame: resynchronise on the next sync byte. Sockets cannot lose bytes: fail them. */
			uint32_t i;
			rxHead++;
			rxConsumedSinceCredit++;
			linkCrcErrors++;
			for (i = 0; i < LINK_CHANNELS; i++)
				if (channels[i].kind == CH_SOCKET)
					channel_fail(&channels[i], "link: a damaged frame (CRC) on the co-processor's UART");
			continue;
		}
		if (header[1] == LINK_EVENT && !hasPendingEvent) {
			uint32_t n = length < sizeof pendingEvent - 1 ? length : sizeof pendingEvent - 1;
			ring_copy((uint8_t*)pendingEvent, LINK_HEADER, n);
			pendingEvent[n] = 0;
			hasPendingEvent = 1;
		}
		else if (header[1] == LINK_EVENT)
			break; /* the previous event is not reported yet: leave this one in the ring */
		link_dispatch(header[1], header[2], length);
		parseTicks[stage_of(header[1])] += ticks_since(start);
		parseFrames[stage_of(header[1])]++;
		parseBytes[stage_of(header[1])] += total;
		rxHead += total;
		rxConsumedSinceCredit += total;
		linkBytesIn += total;
		linkFramesIn++;
		frames++;
	}
	/* A quarter of the ring at a time, and whatever was consumed once the ring is empty: the co-processor then
	   knows when nothing it sent is still in flight (its link microphone waits for that; docs/firmware.md). */
	if (rxConsumedSinceCredit >= LINK_RX_RING / 4 || (rxConsumedSinceCredit && rxTail == rxHead)) {
		uint8_t credit[4];
		put32(credit, rxConsumedSinceCredit);
		rxConsumedSinceCredit = 0;
		link_send(LINK_LINK_CREDIT, 0, credit, 4);
	}
	return frames;
}

static void link_start(void)
{
	uint8_t hello[9];
	if (linkReady)
		return;
	UART1_BAUDDIV = BOARD_SYSCLK_HZ / 921600u;
	UART1_CTRL = UART_CTRL_TX_ENABLE | UART_CTRL_RX_ENABLE | UART_CTRL_RX_INT;
	NVIC_ISER0 = 1u << UART1_RX_IRQ;
	hello[0] = LINK_VERSION;
	put32(hello + 1, LINK_RX_RING);
	put32(hello + 5, LINK_SOCKET_WINDOW);
	link_send(LINK_HELLO, 0, hello, sizeof hello);
	speakerWindow = LINK_SPEAKER_FRAMES; /* HELLO empties the co-processor's speaker */
	linkReady = 1;
}

/* Callbacks */

static void call(xsMachine* the, xsSlot* callback, xsSlot* target, uint32_t count, const char* where)
{
	if (xsTypeOf(*callback) == xsUndefinedType)
		return;
	xsBeginHost(the);
	{
		xsTry {
			(void)xsCallFunction1(*callback, *target, xsInteger((xsIntegerValue)count));
		}
		xsCatch {
			xrIoReportUncaught(the, where);
		}
	}
	xsEndHost(the);
}

static uint32_t channel_writable(Channel* ch)
{
	if (ch->kind == CH_AUDIO_OUT)
		return ch->started ? speakerWindow * LINK_AUDIO_FRAME_BYTES - ch->staged : 0;
	if (ch->state != ST_READY)
		return 0;
	return ch->sendWindow > ch->unacknowledged ? ch->sendWindow - ch->unacknowledged : 0;
}

static void channel_report(Channel* ch)
{
	xsMachine* the = ch->the;
	if (!ch->remembered)
		return;
	if (ch->kind == CH_SOCKET && ch->state == ST_READY && ch->peerClosed && ch->inLength == 0)
		ch->state = ST_FAILED; /* the peer closed and every byte was read */
	if (ch->state == ST_FAILED) {
		xsBeginHost(the);
		{
			xsVars(3);
			xsVar(0) = ch->onError;
			xsVar(1) = ch->target;
			channel_shut(ch);
			if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
				xsTry {
					xsVar(2) = xsNew1(xsGlobal, xsID("Error"), xsString(ch->error));
					(void)xsCallFunction1(xsVar(0), xsVar(1), xsVar(2));
				}
				xsCatch {
					xrIoReportUncaught(the, "onError");
				}
			}
		}
		xsEndHost(the);
		return;
	}
	if (ch->writableWanted && (ch->state == ST_READY || ch->kind == CH_AUDIO_OUT)) {
		uint32_t count = channel_writable(ch);
		ch->writableWanted = 0;
		if (count)
			call(the, &ch->onWritable, &ch->target, count, "onWritable");
	}
	if (ch->remembered && ch->inLength > ch->announced) {
		ch->announced = ch->inLength;
		call(the, &ch->onReadable, &ch->target, ch->inLength, "onReadable");
	}
}

static void link_report(xsMachine* the)
{
	uint32_t i;
	for (i = 0; i < LINK_CHANNELS; i++)
		if (channels[i].kind != CH_FREE && channels[i].the)
			channel_report(&channels[i]);
	if (hasPendingEvent) {
		hasPendingEvent = 0;
		xsBeginHost(the);
		{
			xsVars(2);
			xsVar(0) = xsGet(xsGlobal, xsID("xsrun"));
			xsVar(0) = xsGet(xsVar(0), xsID("io"));
			xsVar(1) = xsGet(xsVar(0), xsID("onEvent"));
			if (xsIsInstanceOf(xsVar(1), xsFunctionPrototype)) {
				xsTry {
					(void)xsCallFunction1(xsVar(1), xsUndefined, xsString(pendingEvent));
				}
				xsCatch {
					xrIoReportUncaught(the, "onEvent");
				}
			}
		}
		xsEndHost(the);
	}
}

int xrIoWait(xsMachine* the, double ms)
{
	uint32_t i;
	int live = 0;
	double until;
	link_poll();
	link_report(the);
	for (i = 0; i < LINK_CHANNELS; i++)
		if (channels[i].kind != CH_FREE && channels[i].remembered)
			live = 1;
	if (!live && !hasPendingEvent)
		return 0;
	/* Sleep until a byte or the next timer; the RX interrupt and SysTick wake the core. */
	until = ms < 0 ? -1 : xrClockMs() + ms;
	while (rxTail == rxHead && (until < 0 || xrClockMs() < until))
		__asm volatile("wfi");
	return 1;
}

/* Reading and writing, shared by sockets and audio */

static void link_read(xsMachine* the, Channel* ch)
{
	size_t length;
	uint8_t* into = xrIoBytes(the, 1, &length);
	uint32_t first;
	if (length > ch->inLength)
		xsUnknownError("invalid: read of %lu bytes, %lu readable", (unsigned long)length, (unsigned long)ch->inLength);
	first = ch->inCapacity - ch->inStart < length ? ch->inCapacity - ch->inStart : (uint32_t)length;
	memcpy(into, ch->in + ch->inStart, first);
	memcpy(into + first, ch->in, length - first);
	ch->inStart = (ch->inStart + (uint32_t)length) % ch->inCapacity;
	ch->inLength -= (uint32_t)length;
	ch->announced = ch->announced > length ? ch->announced - (uint32_t)length : 0;
	if (ch->kind == CH_SOCKET && ch->state == ST_READY) {
		ch->readSinceCredit += (uint32_t)length;
		/* Reopen the window in quarters, not per read: fewer frames. */
		if (ch->readSinceCredit >= ch->inCapacity / 4 || ch->inLength == 0) {
			uint8_t credit[4];
			put32(credit, ch->readSinceCredit);
			ch->readSinceCredit = 0;
			link_send(LINK_CREDIT, (uint8_t)(ch - channels), credit, 4);
		}
	}
	xsResult = xsInteger((xsIntegerValue)length);
}

static void socket_read(xsMachine* the)
{
	link_read(the, channel_of(the, &xsArg(0), CH_SOCKET));
}

static void socket_readable(xsMachine* the)
{
	xsResult = xsInteger((xsIntegerValue)channel_of(the, &xsArg(0), CH_SOCKET)->inLength);
}

static void socket_writable(xsMachine* the)
{
	xsResult = xsInteger((xsIntegerValue)channel_writable(channel_of(the, &xsArg(0), CH_SOCKET)));
}

static void socket_write(xsMachine* the)
{
	Channel* ch = channel_of(the, &xsArg(0), CH_SOCKET);
	size_t length, writable, done = 0;
	uint8_t* data = xrIoBytes(the, 1, &length);
	if (ch->state != ST_READY)
		xsUnknownError("%s: write on a socket that is %s", ch->label, ch->state == ST_OPENING ? "not yet open" : "closed");
	writable = channel_writable(ch);
	if (length > writable)
		xsUnknownError("would block: write of %lu bytes, %lu writable", (unsigned long)length, (unsigned long)writable);
	if (ch->peerClosed) {
		/* The co-processor closed it: the bytes have nowhere to go; the error comes once the rest is read. */
		xsResult = xsInteger((xsIntegerValue)writable);
		return;
	}
	while (done < length) {
		size_t n = length - done < LINK_MAX_PAYLOAD ? length - done : LINK_MAX_PAYLOAD;
		link_send(LINK_DATA, (uint8_t)(ch - channels), data + done, (uint32_t)n);
		done += n;
	}
	ch->unacknowledged += (uint32_t)length;
	xsResult = xsInteger((xsIntegerValue)channel_writable(ch));
}

static void socket_close(xsMachine* the)
{
	channel_shut(channel_of(the, &xsArg(0), CH_SOCKET));
}

/* Opening a socket: OPEN's "key=value" lines. */

typedef struct {
	char text[512];
	size_t length;
} Lines;

static void lines_add(xsMachine* the, Lines* lines, const char* key, const char* value)
{
	int n = snprintf(lines->text + lines->length, sizeof lines->text - lines->length, "%s=%s\n", key, value);
	if (n < 0 || (size_t)n >= sizeof lines->text - lines->length)
		xsRangeError("link: socket options longer than %d bytes", (int)sizeof lines->text);
	if (strchr(value, '\n'))
		xsTypeError("link: %s must not hold a line break", key);
	lines->length += (size_t)n;
}

static uint32_t fnv1a(const uint8_t* data, size_t length)
{
	uint32_t hash = 2166136261u;
	while (length--)
		hash = (hash ^ *data++) * 16777619u;
	return hash;
}

/* Gives the co-processor a certificate or key (DER or PEM bytes) once per link; returns its name. */
static void send_material(xsMachine* the, xsSlot* value, const char* what, char name[16])
{
	size_t length;
	uint8_t* data;
	uint32_t hash;
	int i;
	if (!xsIsInstanceOf(*value, xsArrayBufferPrototype))
		xsTypeError("%s must be an ArrayBuffer (DER or PEM)", what);
	length = (size_t)xsGetArrayBufferLength(*value);
	if (length == 0 || length > LINK_MAX_CERT - 16)
		xsRangeError("%s: %lu bytes, 1 to %d expected", what, (unsigned long)length, (int)(LINK_MAX_CERT - 16));
	data = xsToArrayBuffer(*value);
	hash = fnv1a(data, length) ^ (uint32_t)length;
	snprintf(name, 16, "fnv-%08lx", (unsigned long)hash);
	for (i = 0; i < certCount; i++)
		if (certNames[i] == hash)
			return;
	link_send2(LINK_CERT, 0, (const uint8_t*)name, (uint32_t)strlen(name) + 1, data, (uint32_t)length);
	if (certCount < LINK_CERT_NAMES)
		certNames[certCount++] = hash;
}

static Channel* socket_open(xsMachine* the, const char* address, int port, Lines* lines, xsSlot* options, xsSlot* target)
{
	char label[80], number[12];
	Channel* ch;
	if (port < 1 || port > 65535)
		xsRangeError("invalid port %d", port);
	link_start();
	snprintf(label, sizeof label, "%s:%d", address, port);
	ch = channel_new(the, CH_SOCKET, LINK_SOCKET_WINDOW, label);
	lines_add(the, lines, "host", address);
	snprintf(number, sizeof number, "%d", port);
	lines_add(the, lines, "port", number);
	channel_bind(ch, target, options);
	/* CERT frames go before OPEN (send_material, by the caller); the channel number is OPEN's. */
	link_send(LINK_OPEN, (uint8_t)(ch - channels), (const uint8_t*)lines->text, (uint32_t)lines->length);
	return ch;
}

static void tcp_open(xsMachine* the)
{
	char address[64];
	Lines lines = { "", 0 };
	xsVars(1);
	xsVar(0) = xsGet(xsArg(0), xsID("address"));
	if (xsTypeOf(xsVar(0)) != xsStringType)
		xsTypeError("address must be a string (a dotted IPv4 address)");
	snprintf(address, sizeof address, "%s", xsToString(xsVar(0)));
	channel_handle(the, socket_open(the, address, xsToInteger(xsGet(xsArg(0), xsID("port"))), &lines, &xsArg(0), &xsArg(1)));
}

/* open(address, port, serverName, secure, options, target): TLS in the co-processor. */
static void tls_open(xsMachine* the)
{
	char address[64], name[16];
	Lines lines = { "", 0 };
	xsVars(2);
	snprintf(address, sizeof address, "%s", xsToString(xsArg(0)));
	link_start();
	lines_add(the, &lines, "tls", "1");
	lines_add(the, &lines, "sni", xsToString(xsArg(2)));
	xsVar(0) = xsGet(xsArg(3), xsID("verify"));
	if (xsTypeOf(xsVar(0)) != xsUndefinedType && !xsToBoolean(xsVar(0)))
		lines_add(the, &lines, "verify", "0");
	xsVar(0) = xsGet(xsArg(3), xsID("certificate"));
	if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
		send_material(the, &xsVar(0), "secure.certificate", name);
		lines_add(the, &lines, "ca", name);
	}
	xsVar(0) = xsGet(xsArg(3), xsID("clientCertificates"));
	if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
		int i, count = xsToInteger(xsGet(xsVar(0), xsID("length")));
		for (i = 0; i < count; i++) {
			xsVar(1) = xsGetAt(xsVar(0), xsInteger(i));
			send_material(the, &xsVar(1), "secure.clientCertificates", name);
			lines_add(the, &lines, "cert", name);
		}
		xsVar(1) = xsGet(xsArg(3), xsID("clientKey"));
		if (xsTypeOf(xsVar(1)) == xsUndefinedType)
			xsTypeError("secure.clientKey is required with secure.clientCertificates");
		send_material(the, &xsVar(1), "secure.clientKey", name);
		lines_add(the, &lines, "key", name);
	}
	xsVar(0) = xsGet(xsArg(3), xsID("applicationLayerProtocolNegotiation"));
	if (xsTypeOf(xsVar(0)) != xsUndefinedType) {
		int i, count = xsToInteger(xsGet(xsVar(0), xsID("length")));
		for (i = 0; i < count; i++)
			lines_add(the, &lines, "alpn", xsToString(xsGetAt(xsVar(0), xsInteger(i))));
	}
	channel_handle(the, socket_open(the, address, xsToInteger(xsArg(1)), &lines, &xsArg(4), &xsArg(5)));
}

/* Audio: open("in" | "out", options, target) */

static void audio_open(xsMachine* the)
{
	const char* kind = xsToString(xsArg(0));
	Channel* ch;
	link_start();
	if (!strcmp(kind, "in"))
		ch = channel_new(the, CH_AUDIO_IN, 8 * LINK_AUDIO_FRAME_BYTES, "audio in");
	else if (!strcmp(kind, "out")) {
		ch = channel_new(the, CH_AUDIO_OUT, 0, "audio out");
		ch->staging = link_alloc(LINK_AUDIO_FRAME_BYTES);
		if (!ch->staging)
			xsRangeError("no memory for audio out");
	}
	else
		xsTypeError("audio: \"in\" or \"out\" expected, got %s", kind);
	ch->state = ST_READY;
	channel_bind(ch, &xsArg(2), &xsArg(1));
	channel_handle(the, ch);
}

static Channel* audio_of(xsMachine* the)
{
	Channel* ch = xsIsInstanceOf(xsArg(0), xsObjectPrototype) ? xsGetHostData(xsArg(0)) : NULL;
	if (!ch || (ch->kind != CH_AUDIO_IN && ch->kind != CH_AUDIO_OUT))
		xsTypeError("not an audio channel");
	if (ch->state != ST_READY)
		xsUnknownError("%s is closed", ch->label);
	return ch;
}

static void audio_start(xsMachine* the)
{
	Channel* ch = audio_of(the);
	if (ch->started)
		return;
	ch->started = 1;
	if (ch->kind == CH_AUDIO_IN)
		link_send(LINK_AUDIO_IN_START, 0, NULL, 0);
	else
		ch->writableWanted = 1;
}

static void audio_stop(xsMachine* the)
{
	Channel* ch = audio_of(the);
	if (!ch->started)
		return;
	ch->started = 0;
	if (ch->kind == CH_AUDIO_IN)
		link_send(LINK_AUDIO_IN_STOP, 0, NULL, 0);
	else {
		/* Playback stops now (a barge-in, an alert stopped): the partial frame and the co-processor's queue go; the
		   window comes back with AUDIO_FLUSHED. */
		ch->staged = 0;
		link_send(LINK_AUDIO_OUT_FLUSH, 0, NULL, 0);
	}
}

static void audio_read(xsMachine* the)
{
	Channel* ch = audio_of(the);
	if (ch->kind != CH_AUDIO_IN)
		xsTypeError("read() on audio out");
	link_read(the, ch);
}

static void audio_readable(xsMachine* the)
{
	xsResult = xsInteger((xsIntegerValue)audio_of(the)->inLength);
}

static void audio_writable(xsMachine* the)
{
	xsResult = xsInteger((xsIntegerValue)channel_writable(audio_of(the)));
}

/* write(handle, arrayBuffer, offset, length): 16-bit PCM, sent to the speaker a whole 20 ms frame at a time. */
static void audio_write(xsMachine* the)
{
	Channel* ch = audio_of(the);
	size_t length;
	uint8_t* data;
	if (ch->kind != CH_AUDIO_OUT)
		xsTypeError("write() on audio in");
	data = xrIoBytes(the, 1, &length);
	if (length > channel_writable(ch))
		xsUnknownError("would block: write of %lu bytes, %lu writable", (unsigned long)length, (unsigned long)channel_writable(ch));
	while (length) {
		uint32_t n = LINK_AUDIO_FRAME_BYTES - ch->staged < length ? LINK_AUDIO_FRAME_BYTES - ch->staged : (uint32_t)length;
		memcpy(ch->staging + ch->staged, data, n);
		ch->staged += n;
		data += n;
		length -= n;
		if (ch->staged == LINK_AUDIO_FRAME_BYTES) {
			link_send(LINK_AUDIO_OUT, 0, ch->staging, LINK_AUDIO_FRAME_BYTES);
			ch->staged = 0;
			speakerWindow--;
		}
	}
	xsResult = xsInteger((xsIntegerValue)channel_writable(ch));
}

static void audio_close(xsMachine* the)
{
	Channel* ch = xsIsInstanceOf(xsArg(0), xsObjectPrototype) ? xsGetHostData(xsArg(0)) : NULL;
	if (ch && (ch->kind == CH_AUDIO_IN || ch->kind == CH_AUDIO_OUT))
		channel_shut(ch);
}

/* random(arrayBuffer, offset, length): waits for the co-processor's bytes (its TRNG on a Wi-Fi module). */
static void link_random(xsMachine* the)
{
	size_t length, done = 0;
	uint8_t* data = xrIoBytes(the, 0, &length);
	double deadline = xrClockMs() + 5000;
	link_start();
	while (done < length) {
		if (randomLength == 0) {
			uint8_t count[2] = { (uint8_t)sizeof randomPool, 0 };
			count[0] = (uint8_t)(sizeof randomPool & 0xFF);
			count[1] = (uint8_t)(sizeof randomPool >> 8);
			link_send(LINK_RANDOM_REQUEST, 0, count, 2);
			while (randomLength == 0) {
				if (xrClockMs() > deadline)
					xsUnknownError("random: no answer from the co-processor in 5 s");
				if (!link_poll())
					__asm volatile("wfi");
			}
		}
		{
			size_t n = length - done < randomLength ? length - done : randomLength;
			memcpy(data + done, randomPool + randomLength - n, n);
			memset(randomPool + randomLength - n, 0, n);
			randomLength -= (uint32_t)n;
			done += n;
		}
	}
}

/* provisioning(): the device's provisioning record (JSON text) from the co-processor, as a string. */
static void link_provisioning(xsMachine* the)
{
	double deadline = xrClockMs() + 5000;
	link_start();
	configText = link_alloc(LINK_MAX_CONFIG);
	if (!configText)
		xsRangeError("no memory for the provisioning record");
	configLength = 0;
	configDone = 0;
	link_send(LINK_CONFIG_REQUEST, 0, NULL, 0);
	while (!configDone) {
		if (xrClockMs() > deadline) {
			link_release(configText, LINK_MAX_CONFIG);
			configText = NULL;
			xsUnknownError("provisioning: no record from the co-processor in 5 s");
		}
		if (!link_poll())
			__asm volatile("wfi");
	}
	configText[configLength] = 0;
	xsResult = xsString(configText);
	link_release(configText, LINK_MAX_CONFIG);
	configText = NULL;
}

/* One of stats()'s per-stage counters: `format` names it with the stage ("parse%sTicks", "Audio"). */
static void stage_stat(xsMachine* the, const char* format, const char* stage, uint32_t value)
{
	char name[24];
	snprintf(name, sizeof name, format, stage);
	xsSet(xsResult, xsID(name), xsNumber(value));
}

/* stats(): the link's counters, for the bench and the tests. */
static void link_stats(xsMachine* the)
{
	static const char* const stage[STAGES] = { "Audio", "Socket", "Other" };
	int i;
	xsResult = xsNewObject();
	xsSet(xsResult, xsID("bytesIn"), xsNumber(linkBytesIn));
	xsSet(xsResult, xsID("bytesOut"), xsNumber(linkBytesOut));
	xsSet(xsResult, xsID("framesIn"), xsNumber(linkFramesIn));
	xsSet(xsResult, xsID("framesOut"), xsNumber(linkFramesOut));
	xsSet(xsResult, xsID("crcErrors"), xsNumber(linkCrcErrors));
	xsSet(xsResult, xsID("overruns"), xsNumber(rxOverruns));
	xsSet(xsResult, xsID("speakerWindow"), xsNumber(speakerWindow));
	xsSet(xsResult, xsID("speakerFlushes"), xsNumber(speakerFlushes));
	xsSet(xsResult, xsID("speakerFlushedFrames"), xsNumber(speakerFlushedFrames));
	xsSet(xsResult, xsID("speakerOverCredits"), xsNumber(speakerOverCredits));
	xsSet(xsResult, xsID("heapBytes"), xsNumber(linkHeapBytes));
	xsSet(xsResult, xsID("heapPeak"), xsNumber(linkHeapPeak));
	xsSet(xsResult, xsID("rxIsrTicks"), xsNumber(rxIsrTicks));
	xsSet(xsResult, xsID("rxIsrBytes"), xsNumber(rxIsrBytes));
	for (i = 0; i < STAGES; i++) {
		stage_stat(the, "parse%sTicks", stage[i], parseTicks[i]);
		stage_stat(the, "parse%sFrames", stage[i], parseFrames[i]);
		stage_stat(the, "parse%sBytes", stage[i], parseBytes[i]);
		stage_stat(the, "send%sTicks", stage[i], sendTicks[i]);
		stage_stat(the, "send%sFrames", stage[i], sendFrames[i]);
		stage_stat(the, "send%sBytes", stage[i], sendBytes[i]);
	}
}

static void define_group(xsMachine* the, xsSlot* io, const char* name, int scratch, const char* const* names, const xsCallback* callbacks, const int* lengths, int count)
{
	int i;
	xsVar(scratch) = xsNewObject();
	xsSet(*io, xsID(name), xsVar(scratch));
	for (i = 0; i < count; i++)
		xrIoDefine(the, &xsVar(scratch), XR_IO_SCRATCH, names[i], callbacks[i], lengths[i]);
}

void xrIoInstall(xsMachine* the)
{
	static const char* const socketNames[] = { "open", "read", "readable", "write", "writable", "close" };
	static const int socketLengths[] = { 2, 4, 1, 4, 1, 1 };
	static const char* const audioNames[] = { "open", "start", "stop", "read", "readable", "write", "writable", "close" };
	static const xsCallback audioCallbacks[] = { audio_open, audio_start, audio_stop, audio_read, audio_readable, audio_write, audio_writable, audio_close };
	static const int audioLengths[] = { 3, 1, 1, 4, 1, 4, 1, 1 };
	xsCallback tcp[] = { tcp_open, socket_read, socket_readable, socket_write, socket_writable, socket_close };
	xsCallback tls[] = { tls_open, socket_read, socket_readable, socket_write, socket_writable, socket_close };
	int tlsLengths[] = { 6, 4, 1, 4, 1, 1 };
	xsBeginHost(the);
	{
		xsVars(XR_IO_SCRATCH + 1);
		xsVar(0) = xsGet(xsGlobal, xsID("xsrun"));
		xsVar(1) = xsNewObject();
		xsSet(xsVar(0), xsID("io"), xsVar(1));
		xrIoDefine(the, &xsVar(1), XR_IO_SCRATCH, "random", link_random, 3);
		xrIoDefine(the, &xsVar(1), XR_IO_SCRATCH, "linkStats", link_stats, 0);
		xrIoDefine(the, &xsVar(1), XR_IO_SCRATCH, "provisioning", link_provisioning, 0);
		define_group(the, &xsVar(1), "tcp", 2, socketNames, tcp, socketLengths, 6);
		define_group(the, &xsVar(1), "tls", 2, socketNames, tls, tlsLengths, 6);
		define_group(the, &xsVar(1), "audio", 2, audioNames, audioCallbacks, audioLengths, 8);
	}
	xsEndHost(the);
}
