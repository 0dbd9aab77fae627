/*
 * Non-blocking I/O of xsrun on POSIX (xr_io.c, io_tcp.c, io_tls.c, io_files.c): the natives behind the
 * ECMA-419 modules hosts/xs/io/ modules. Linked into xsrun only; the Cortex-M image has no sockets, and
 * xr_host.c reaches these through weak symbols.
 *
 * A stream connection (xrConn) is a socket with a byte layer on top: plain TCP, or TLS (mbedTLS). The core
 * (io_tcp.c) owns the socket, the readable bytes waiting for JavaScript and the bytes waiting for the wire;
 * a layer turns wire bytes into readable bytes (pull) and written bytes into wire bytes (push).
 */
#ifndef XR_IO_H
#define XR_IO_H

#include <stddef.h>
#include "xs.h"

/* What the run loop calls (xr_host.c). */
void xrIoInstall(xsMachine* the);
/* Waits up to `ms` (negative: no deadline) for socket events and runs their callbacks. Returns 0 at once
   when no open socket keeps the loop alive, else 1. */
int xrIoWait(xsMachine* the, double ms);

/* Each native module adds its host functions to `xsrun.io.<name>` (the object in `target`). */
typedef void (*xrIoInstaller)(xsMachine* the, xsSlot* target);
void xrIoInstallTcp(xsMachine* the, xsSlot* target);
void xrIoInstallTls(xsMachine* the, xsSlot* target);   /* weak: absent when built without libmbedtls-dev */
void xrIoInstallFiles(xsMachine* the, xsSlot* target);
void xrIoInstallAudio(xsMachine* the, xsSlot* target);  /* io_audio.c: audio in/out from/to WAV files, stdin lines */

/*
 * Other event sources of the loop (io_audio.c: audio clocks, stdin), beside the stream connections. A source
 * lives in the loop's list from xrIoAddSource until it is marked dead; the loop frees it (release) at the start
 * of its next wait, never while a callback may hold it. While `active`, it keeps the loop alive: `prepare`
 * gives the poll entry (fd -1 for none) and returns the monotonic ms by which `dispatch` must run (negative:
 * only when the fd is ready); `dispatch` runs after each poll with the fd's revents (0 when woken by time).
 */
typedef struct xrIoSource xrIoSource;
struct xrIoSource {
	double (*prepare)(xrIoSource* source, int* fd, short* events);
	void (*dispatch)(xrIoSource* source, short revents);
	void (*release)(xrIoSource* source);
	int active;
	int dead;
	xrIoSource* next;
};
void xrIoAddSource(xrIoSource* source);

/* Installers run inside xrIoInstall's host frame: they may use xsVar(XR_IO_SCRATCH), and call no xsVars. */
#define XR_IO_SCRATCH 3
/* Sets xsVar(index) = the host function, then target[name] = it. */
void xrIoDefine(xsMachine* the, xsSlot* target, int index, const char* name, xsCallback callback, int length);
/* Runs a JavaScript callback from the loop; an exception in it ends the process as an uncaught one. */
void xrIoReportUncaught(xsMachine* the, const char* where);

/* Pointer and length of an ArrayBuffer argument with an offset and a length (the JS side passes view parts). */
unsigned char* xrIoBytes(xsMachine* the, int argument, size_t* length);

typedef struct xrConn xrConn;

typedef struct {
	const char* name;
	/* The TCP connection is up: start the layer (TLS: the handshake). Returns 1 when the stream is ready for
	   the application at once, 0 when not yet, -1 on an error (set with xrConnFail). */
	int (*opened)(xrConn* conn);
	/* The socket is readable (or the layer said it holds bytes): move bytes into the readable buffer. */
	void (*pull)(xrConn* conn);
	/* The application writes: turn `data` into wire bytes (xrConnQueue). Returns 0, or -1 on an error. */
	int (*push)(xrConn* conn, const unsigned char* data, size_t length);
	/* Wire bytes a write of `length` application bytes can take at most (framing overhead). */
	size_t (*overhead)(xrConn* conn, size_t length);
	/* 1 when the layer holds bytes it can deliver without the socket becoming readable. */
	int (*pending)(xrConn* conn);
	void (*release)(xrConn* conn);
} xrConnLayer;

enum { XR_CONN_CONNECTING, XR_CONN_OPENING, XR_CONN_READY, XR_CONN_FAILED, XR_CONN_CLOSED };

struct xrConn {
	xsMachine* the;
	int fd;
	int state;
	const xrConnLayer* layer;
	void* layerData;
	/* The JavaScript object the callbacks run on, and the callbacks (remembered while open). */
	xsSlot target, onReadable, onWritable, onError;
	int remembered;
	/* Readable bytes, waiting for read(): data[start .. start + length). */
	unsigned char* in;
	size_t inStart, inLength, inCapacity;
	/* Wire bytes waiting for the socket. */
	unsigned char* out;
	size_t outLength, outCapacity;
	int peerClosed;
	int readableAnnounced;   /* inLength reported by the last onReadable */
	int writableWanted;      /* a write found the buffer full, or the stream just opened: tell onWritable */
	char error[256];
	char label[80];          /* "127.0.0.1:8883", for messages */
	xrConn* next;
};

/* Opens a non-blocking connection to a dotted IPv4 address; throws a JavaScript error on bad arguments. */
xrConn* xrConnOpen(xsMachine* the, const char* address, int port, const xrConnLayer* layer, void* layerData);
/* Binds the callbacks found on `options` (onReadable, onWritable, onError) and the target object. */
void xrConnBind(xrConn* conn, xsSlot* target, xsSlot* options);
/* Appends wire bytes; returns 0, or -1 when the buffer cannot grow (error set). */
int xrConnQueue(xrConn* conn, const unsigned char* data, size_t length);
/* Appends readable bytes for the application. */
int xrConnDeliver(xrConn* conn, const unsigned char* data, size_t length);
/* Room left in the readable buffer. */
size_t xrConnRoom(xrConn* conn);
/* Marks the connection failed with a message; the loop reports it through onError. */
void xrConnFail(xrConn* conn, const char* format, ...);
/* Sends what the socket takes now; returns -1 on a socket error (failed). */
int xrConnFlush(xrConn* conn);
/* The connection behind `handle` (a host object made by xrConnHandle), or a TypeError. */
xrConn* xrConnOf(xsMachine* the, xsSlot* handle);
/* Makes the host object that owns `conn` (xsResult). */
void xrConnHandle(xsMachine* the, xrConn* conn);

/* The JavaScript side of read/write/close, shared by TCP and TLS (io_tcp.c). */
void xrConnRead(xsMachine* the);
void xrConnWrite(xsMachine* the);
void xrConnClose(xsMachine* the);
void xrConnWritable(xsMachine* the);
void xrConnReadable(xsMachine* the);

#endif
