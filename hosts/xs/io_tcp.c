/*
 * Stream connections of xsrun (xr_io.h) and the natives of `embedded:io/socket/tcp` (hosts/xs/io/tcp.js).
 *
 * The behaviour follows Moddable's ECMA-419 TCP socket on Linux (modules/io/socket/lin/tcp.c): a dotted IPv4
 * `address` and a `port` (no DNS), onWritable(count) once connected and again when written bytes have left,
 * onReadable(count) with every readable byte so far, read(count | buffer) never beyond what onReadable
 * reported ("invalid"), write() beyond the writable count throws "would block", and the peer's close is an
 * error once every byte has been read. Unlike Moddable's, onError receives an Error whose message says what
 * failed (Moddable calls it without an argument).
 *
 * One socket per connection, non-blocking; poll(2) in xrIoWait replaces the run loop's sleep. Buffers are
 * plain malloc (not the engine's counted heap): 16 KB of readable bytes, 16 KB of application writes plus
 * room for TLS framing and the handshake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "xr_host.h"
#include "xr_io.h"

#define XR_IN_CAPACITY 16384
#define XR_WRITE_WINDOW 16384
#define XR_OUT_CAPACITY (2 * XR_WRITE_WINDOW + 8192)

static xrConn* xrConns = NULL;
static xrIoSource* xrSources = NULL;

void xrIoAddSource(xrIoSource* source)
{
	source->next = xrSources;
	xrSources = source;
}

static void xrConnForget(xrConn* conn)
{
	xsMachine* the = conn->the;
	if (!conn->remembered)
		return;
	conn->remembered = 0;
	xsForget(conn->target);
	xsForget(conn->onReadable);
	xsForget(conn->onWritable);
	xsForget(conn->onError);
}

/* Ends the connection: no callback runs after it. The struct lives until its handle is collected. */
static void xrConnShut(xrConn* conn)
{
	if (conn->fd >= 0) {
		close(conn->fd);
		conn->fd = -1;
	}
	if (conn->layer && conn->layer->release && conn->layerData) {
		conn->layer->release(conn);
		conn->layerData = NULL;
	}
	if (conn->state != XR_CONN_FAILED)
		conn->state = XR_CONN_CLOSED;
	xrConnForget(conn);
}

void xrConnFail(xrConn* conn, const char* format, ...)
{
	va_list args;
	if (conn->state == XR_CONN_FAILED || conn->state == XR_CONN_CLOSED)
		return;
	va_start(args, format);
	vsnprintf(conn->error, sizeof conn->error, format, args);
	va_end(args);
	conn->state = XR_CONN_FAILED;
}

size_t xrConnRoom(xrConn* conn)
{
	return conn->inCapacity - conn->inLength;
}

int xrConnDeliver(xrConn* conn, const unsigned char* data, size_t length)
{
	if (length > xrConnRoom(conn))
		return -1;
	if (conn->inStart + conn->inLength + length > conn->inCapacity) {
		memmove(conn->in, conn->in + conn->inStart, conn->inLength);
		conn->inStart = 0;
	}
	memcpy(conn->in + conn->inStart + conn->inLength, data, length);
	conn->inLength += length;
	return 0;
}

int xrConnQueue(xrConn* conn, const unsigned char* data, size_t length)
{
	if (conn->outLength + length > conn->outCapacity) {
		xrConnFail(conn, "%s: send buffer full (%lu bytes waiting)", conn->label, (unsigned long)conn->outLength);
		return -1;
	}
	memcpy(conn->out + conn->outLength, data, length);
	conn->outLength += length;
	return 0;
}

int xrConnFlush(xrConn* conn)
{
	size_t sent = 0;
	while (conn->fd >= 0 && sent < conn->outLength) {
		ssize_t n = send(conn->fd, conn->out + sent, conn->outLength - sent, MSG_NOSIGNAL);
		if (n > 0)
			sent += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else if (n < 0 && errno == EINTR)
			continue;
		else {
			xrConnFail(conn, "%s: send failed: %s", conn->label, strerror(errno));
			return -1;
		}
	}
	if (sent) {
		memmove(conn->out, conn->out + sent, conn->outLength - sent);
		conn->outLength -= sent;
	}
	return 0;
}

static size_t xrConnWritableCount(xrConn* conn)
{
	size_t overhead, window;
	if (conn->state != XR_CONN_READY || conn->outLength >= XR_WRITE_WINDOW)
		return 0;
	window = XR_WRITE_WINDOW - conn->outLength;
	overhead = conn->layer->overhead ? conn->layer->overhead(conn, window) : 0;
	return window > overhead ? window - overhead : 0;
}

static void xrConnDestructor(void* data)
{
	xrConn* conn = data;
	if (!conn)
		return;
	/* The loop frees it (xrIoWait), never while a callback of the loop may still hold it. */
	xrConnShut(conn);
	conn->state = XR_CONN_CLOSED;
	conn->the = NULL;
}

xrConn* xrConnOpen(xsMachine* the, const char* address, int port, const xrConnLayer* layer, void* layerData)
{
	struct sockaddr_in addr;
	xrConn* conn;
	int fd;
	memset(&addr, 0, sizeof addr);
	if (!inet_aton(address, &addr.sin_addr))
		xsUnknownError("invalid address %s: a dotted IPv4 address expected (ECMA-419 TCP does no DNS)", address);
	if (port < 1 || port > 65535)
		xsRangeError("invalid port %d", port);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	conn = calloc(1, sizeof *conn);
	if (conn) {
		conn->in = malloc(XR_IN_CAPACITY);
		conn->out = malloc(XR_OUT_CAPACITY);
	}
	if (!conn || !conn->in || !conn->out) {
		if (conn) { free(conn->in); free(conn->out); free(conn); }
		xsRangeError("no memory for a socket");
	}
	conn->inCapacity = XR_IN_CAPACITY;
	conn->outCapacity = XR_OUT_CAPACITY;
	conn->the = the;
	conn->layer = layer;
	conn->layerData = layerData;
	snprintf(conn->label, sizeof conn->label, "%s:%d", address, port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		free(conn->in); free(conn->out); free(conn);
		xsUnknownError("no socket: %s", strerror(errno));
	}
	conn->fd = fd;
	conn->state = XR_CONN_CONNECTING;
	/* Connected at once or in progress: either way poll reports it writable, and the loop carries on. */
	if (connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0 && errno != EINPROGRESS)
		xrConnFail(conn, "connect to %s failed: %s", conn->label, strerror(errno));
	conn->next = xrConns;
	xrConns = conn;
	return conn;
}

void xrConnHandle(xsMachine* the, xrConn* conn)
{
	xsResult = xsNewHostObject(xrConnDestructor);
	xsSetHostData(xsResult, conn);
}

xrConn* xrConnOf(xsMachine* the, xsSlot* handle)
{
	xrConn* conn;
	if (!xsIsInstanceOf(*handle, xsObjectPrototype))
		xsTypeError("not a socket");
	conn = xsGetHostData(*handle);
	if (!conn)
		xsTypeError("not a socket");
	return conn;
}

static int xrBindCallback(xsMachine* the, xsSlot* options, const char* name, xsSlot* into)
{
	xsSlot value = xsGet(*options, xsID(name));
	if (xsTypeOf(value) == xsUndefinedType) {
		*into = xsUndefined;
		return 0;
	}
	if (!xsIsInstanceOf(value, xsFunctionPrototype))
		xsTypeError("%s must be a function", name);
	*into = value;
	return 1;
}

void xrConnBind(xrConn* conn, xsSlot* target, xsSlot* options)
{
	xsMachine* the = conn->the;
	xrBindCallback(the, options, "onReadable", &conn->onReadable);
	xrBindCallback(the, options, "onWritable", &conn->onWritable);
	xrBindCallback(the, options, "onError", &conn->onError);
	conn->target = *target;
	xsRemember(conn->target);
	xsRemember(conn->onReadable);
	xsRemember(conn->onWritable);
	xsRemember(conn->onError);
	conn->remembered = 1;
}

/* Callbacks of one connection after an event; any of them may close it. */
static void xrConnReport(xrConn* conn)
{
	xsMachine* the = conn->the;
	if (!the || !conn->remembered)
		return;
	if (conn->state == XR_CONN_READY && conn->peerClosed && conn->inLength == 0
		&& !(conn->layer->pending && conn->layer->pending(conn)))
		xrConnFail(conn, "%s: connection closed by the peer", conn->label);
	if (conn->state == XR_CONN_FAILED) {
		xsSlot callback = conn->onError, target = conn->target;
		int has = xsTypeOf(callback) != xsUndefinedType;
		/* Keep the callback alive across the shut, which forgets it. */
		xsBeginHost(the);
		{
			xsVars(3);
			xsVar(0) = callback;
			xsVar(1) = target;
			xrConnShut(conn);
			if (has) {
				xsTry {
					xsVar(2) = xsNew1(xsGlobal, xsID("Error"), xsString(conn->error));
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
	if (conn->state != XR_CONN_READY)
		return;
	if (conn->writableWanted && conn->outLength == 0) {
		conn->writableWanted = 0;
		if (xsTypeOf(conn->onWritable) != xsUndefinedType) {
			xsBeginHost(the);
			{
				xsTry {
					(void)xsCallFunction1(conn->onWritable, conn->target, xsInteger((xsIntegerValue)xrConnWritableCount(conn)));
				}
				xsCatch {
					xrIoReportUncaught(the, "onWritable");
				}
			}
			xsEndHost(the);
		}
	}
	if (conn->state == XR_CONN_READY && conn->remembered && conn->inLength > (size_t)conn->readableAnnounced) {
		conn->readableAnnounced = (int)conn->inLength;
		if (xsTypeOf(conn->onReadable) != xsUndefinedType) {
			xsBeginHost(the);
			{
				xsTry {
					(void)xsCallFunction1(conn->onReadable, conn->target, xsInteger((xsIntegerValue)conn->inLength));
				}
				xsCatch {
					xrIoReportUncaught(the, "onReadable");
				}
			}
			xsEndHost(the);
		}
	}
}

static void xrConnEvent(xrConn* conn, short revents)
{
	if (conn->state == XR_CONN_CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int error = 0;
		socklen_t size = sizeof error;
		if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0)
			error = errno;
		if (error) {
			xrConnFail(conn, "connect to %s failed: %s", conn->label, strerror(error));
			return;
		}
		conn->state = XR_CONN_OPENING;
		switch (conn->layer->opened(conn)) {
		case 1: conn->state = XR_CONN_READY; conn->writableWanted = 1; break;
		case 0: break;
		default: xrConnFail(conn, "%s: %s", conn->label, conn->error[0] ? conn->error : "cannot open"); return;
		}
		xrConnFlush(conn);
		return;
	}
	if ((conn->state == XR_CONN_OPENING || conn->state == XR_CONN_READY)
		&& ((revents & (POLLIN | POLLHUP | POLLERR)) || (conn->layer->pending && conn->layer->pending(conn))))
		conn->layer->pull(conn);
	if (conn->outLength && conn->state != XR_CONN_FAILED)
		xrConnFlush(conn);
}

int xrIoWait(xsMachine* the, double ms)
{
	struct pollfd fds[64];
	xrConn* polled[64];
	xrConn** link = &xrConns;
	xrConn* conn;
	int count = 0, i, timeout, busy = 0;
	xrIoSource* sources[16];
	xrIoSource** sourceLink = &xrSources;
	xrIoSource* source;
	int sourceFds[16], sourceCount = 0, connCount;
	double due = -1;
	while ((source = *sourceLink)) {
		if (source->dead) {
			*sourceLink = source->next;
			source->release(source);
			continue;
		}
		sourceLink = &source->next;
	}
	/* Free the connections whose handles were collected; report errors the last pass left. */
	while ((conn = *link)) {
		if (!conn->the) {
			*link = conn->next;
			free(conn->in);
			free(conn->out);
			free(conn);
			continue;
		}
		link = &conn->next;
	}
	for (conn = xrConns; conn && count < 64; conn = conn->next) {
		short events = 0;
		if (conn->state == XR_CONN_CLOSED || !conn->remembered)
			continue;
		if (conn->state == XR_CONN_FAILED || (conn->layer->pending && conn->layer->pending(conn)))
			busy = 1;
		else if (conn->state == XR_CONN_CONNECTING)
			events = POLLOUT;
		else {
			if (xrConnRoom(conn) > 0 && !conn->peerClosed)
				events |= POLLIN;
			if (conn->outLength)
				events |= POLLOUT;
		}
		fds[count].fd = conn->state == XR_CONN_FAILED ? -1 : conn->fd;
		fds[count].events = events;
		fds[count].revents = 0;
		polled[count++] = conn;
	}
	connCount = count;
	for (source = xrSources; source && sourceCount < 16; source = source->next) {
		int fd = -1;
		short events = 0;
		double at;
		if (!source->active)
			continue;
		at = source->prepare(source, &fd, &events);
		if (at >= 0 && (due < 0 || at < due))
			due = at;
		sourceFds[sourceCount] = -1;
		if (fd >= 0 && count < 64) {
			fds[count].fd = fd;
			fds[count].events = events;
			fds[count].revents = 0;
			sourceFds[sourceCount] = count++;
		}
		sources[sourceCount++] = source;
	}
	if (count == 0 && sourceCount == 0)
		return 0;
	timeout = busy ? 0 : (ms < 0 ? -1 : (int)(ms + 0.999));
	if (due >= 0) {
		double left = due - xrClockMs();
		int until = left <= 0 ? 0 : (int)(left + 0.999);
		if (timeout < 0 || until < timeout)
			timeout = until;
	}
	if (poll(fds, (nfds_t)count, timeout) < 0 && errno != EINTR)
		return 1;
	for (i = 0; i < connCount; i++) {
		conn = polled[i];
		if (conn->state == XR_CONN_CLOSED || !conn->the)
			continue;
		xrConnEvent(conn, fds[i].revents);
		xrConnReport(conn);
	}
	/* A callback may have ended a later source: it is only marked (active 0, or dead), freed next time. */
	for (i = 0; i < sourceCount; i++) {
		source = sources[i];
		if (source->active && !source->dead)
			source->dispatch(source, sourceFds[i] >= 0 ? fds[sourceFds[i]].revents : 0);
	}
	return 1;
}

/* JavaScript side: read(handle, arrayBuffer, offset, length) copies exactly `length` readable bytes. */
void xrConnRead(xsMachine* the)
{
	xrConn* conn = xrConnOf(the, &xsArg(0));
	size_t length;
	unsigned char* into = xrIoBytes(the, 1, &length);
	if (length > conn->inLength)
		xsUnknownError("invalid: read of %lu bytes, %lu readable", (unsigned long)length, (unsigned long)conn->inLength);
	memcpy(into, conn->in + conn->inStart, length);
	conn->inStart += length;
	conn->inLength -= length;
	if (conn->inLength == 0)
		conn->inStart = 0;
	conn->readableAnnounced = conn->readableAnnounced > (int)length ? conn->readableAnnounced - (int)length : 0;
	xsResult = xsInteger((xsIntegerValue)length);
}

void xrConnReadable(xsMachine* the)
{
	xrConn* conn = xrConnOf(the, &xsArg(0));
	xsResult = xsInteger((xsIntegerValue)conn->inLength);
}

void xrConnWritable(xsMachine* the)
{
	xrConn* conn = xrConnOf(the, &xsArg(0));
	xsResult = xsInteger((xsIntegerValue)xrConnWritableCount(conn));
}

/* write(handle, arrayBuffer, offset, length): queues it all or throws "would block"; returns the count left. */
void xrConnWrite(xsMachine* the)
{
	xrConn* conn = xrConnOf(the, &xsArg(0));
	size_t length, writable;
	unsigned char* data = xrIoBytes(the, 1, &length);
	if (conn->state != XR_CONN_READY)
		xsUnknownError("%s: write on a socket that is %s", conn->label,
			conn->state == XR_CONN_CLOSED || conn->state == XR_CONN_FAILED ? "closed" : "not yet open");
	writable = xrConnWritableCount(conn);
	if (length > writable)
		xsUnknownError("would block: write of %lu bytes, %lu writable", (unsigned long)length, (unsigned long)writable);
	if (conn->layer->push(conn, data, length) == 0)
		xrConnFlush(conn);
	conn->writableWanted = 1;
	xsResult = xsInteger((xsIntegerValue)xrConnWritableCount(conn));
}

void xrConnClose(xsMachine* the)
{
	xrConn* conn = xrConnOf(the, &xsArg(0));
	xrConnShut(conn);
}

/* Plain TCP: wire bytes are the application's. */
static int xrTcpOpened(xrConn* conn)
{
	return 1;
}

static void xrTcpPull(xrConn* conn)
{
	while (xrConnRoom(conn) > 0) {
		unsigned char buffer[4096];
		size_t room = xrConnRoom(conn);
		ssize_t n = recv(conn->fd, buffer, room < sizeof buffer ? room : sizeof buffer, 0);
		if (n > 0)
			xrConnDeliver(conn, buffer, (size_t)n);
		else if (n == 0) {
			conn->peerClosed = 1;
			return;
		}
		else if (errno == EINTR)
			continue;
		else {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xrConnFail(conn, "%s: receive failed: %s", conn->label, strerror(errno));
			return;
		}
	}
}

static int xrTcpPush(xrConn* conn, const unsigned char* data, size_t length)
{
	return xrConnQueue(conn, data, length);
}

static const xrConnLayer xrTcpLayer = { "tcp", xrTcpOpened, xrTcpPull, xrTcpPush, NULL, NULL, NULL };

/* open(options, target): options {address, port, nodelay, onReadable, onWritable, onError}; callbacks on target. */
static void xr_tcp_open(xsMachine* the)
{
	char address[64];
	xrConn* conn;
	int port;
	xsVars(1);
	xsVar(0) = xsGet(xsArg(0), xsID("address"));
	if (xsTypeOf(xsVar(0)) != xsStringType)
		xsTypeError("address must be a string (a dotted IPv4 address)");
	snprintf(address, sizeof address, "%s", xsToString(xsVar(0)));
	port = xsToInteger(xsGet(xsArg(0), xsID("port")));
	conn = xrConnOpen(the, address, port, &xrTcpLayer, NULL);
	if (xsToBoolean(xsGet(xsArg(0), xsID("nodelay")))) {
		int on = 1;
		setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	}
	xrConnBind(conn, &xsArg(1), &xsArg(0));
	xrConnHandle(the, conn);
}

void xrIoInstallTcp(xsMachine* the, xsSlot* target)
{
	xrIoDefine(the, target, XR_IO_SCRATCH, "open", xr_tcp_open, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "read", xrConnRead, 4);
	xrIoDefine(the, target, XR_IO_SCRATCH, "readable", xrConnReadable, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "write", xrConnWrite, 4);
	xrIoDefine(the, target, XR_IO_SCRATCH, "writable", xrConnWritable, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "close", xrConnClose, 1);
}
