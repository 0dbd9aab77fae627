/*
 * The natives of `embedded:storage/files` on xsrun (hosts/xs/io/files.js), after Moddable's POSIX files
 * module (modules/io/files/posix): directories and files are descriptors, paths are relative to the
 * directory they are opened from and may not climb out of it ("bad path"), File.flush() is fsync(2) and
 * Directory.move() is renameat(2). One addition: Directory.flush() fsyncs the directory itself, which a
 * crash-safe rename needs on POSIX file systems (on littlefs, Moddable's ESP32 files, a finished rename is
 * already durable). Errors say the operation, the path and strerror.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "xr_io.h"

typedef struct {
	int fd;
	int directory;
} xrFile;

static void xrFileDestructor(void* data)
{
	xrFile* file = data;
	if (!file)
		return;
	if (file->fd >= 0)
		close(file->fd);
	free(file);
}

static void xrFileHandle(xsMachine* the, int fd, int directory)
{
	xrFile* file = malloc(sizeof *file);
	if (!file) {
		close(fd);
		xsRangeError("no memory");
	}
	file->fd = fd;
	file->directory = directory;
	xsResult = xsNewHostObject(xrFileDestructor);
	xsSetHostData(xsResult, file);
}

static int xrFileOf(xsMachine* the, int argument, int directory)
{
	xrFile* file = xsGetHostData(xsArg(argument));
	if (!file || file->directory != directory)
		xsTypeError(directory ? "not a directory" : "not a file");
	if (file->fd < 0)
		xsUnknownError(directory ? "directory closed" : "file closed");
	return file->fd;
}

/* A path below the directory: not empty, not absolute, no "." or ".." part, no empty part. */
static const char* xrPathOf(xsMachine* the, int argument, char* buffer, size_t size)
{
	const char* p;
	const char* part;
	if (xsTypeOf(xsArg(argument)) != xsStringType)
		xsTypeError("path must be a string");
	snprintf(buffer, size, "%s", xsToString(xsArg(argument)));
	if (strlen(buffer) + 1 >= size)
		xsRangeError("path too long");
	if (buffer[0] == 0)
		xsUnknownError("bad path \"\"");
	for (part = p = buffer;; p++) {
		if (*p == '/' || *p == 0) {
			size_t length = (size_t)(p - part);
			if (length == 0 || (length == 1 && part[0] == '.') || (length == 2 && part[0] == '.' && part[1] == '.'))
				xsUnknownError("bad path \"%s\"", buffer);
			if (*p == 0)
				break;
			part = p + 1;
		}
	}
	return buffer;
}

#define XR_FAIL(what, path) xsUnknownError("%s %s: %s", what, path, strerror(errno))

/* root(path): the directory the module's default export stands for. */
static void xr_files_root(xsMachine* the)
{
	const char* path = xsToString(xsArg(0));
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		XR_FAIL("open directory", path);
	xrFileHandle(the, fd, 1);
}

static void xr_files_openDirectory(xsMachine* the)
{
	char path[256];
	int dir = xrFileOf(the, 0, 1);
	int fd = openat(dir, xrPathOf(the, 1, path, sizeof path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		XR_FAIL("open directory", path);
	xrFileHandle(the, fd, 1);
}

static void xr_files_createDirectory(xsMachine* the)
{
	char path[256];
	int dir = xrFileOf(the, 0, 1);
	if (mkdirat(dir, xrPathOf(the, 1, path, sizeof path), 0700) < 0)
		XR_FAIL("create directory", path);
}

/* openFile(dir, path, mode): "r", "r+", "w", "w+" as Moddable has them. */
static void xr_files_openFile(xsMachine* the)
{
	char path[256];
	const char* mode;
	int dir = xrFileOf(the, 0, 1), flags, fd;
	xrPathOf(the, 1, path, sizeof path);
	mode = xsTypeOf(xsArg(2)) == xsStringType ? xsToString(xsArg(2)) : "r";
	if (!strcmp(mode, "r")) flags = O_RDONLY;
	else if (!strcmp(mode, "r+")) flags = O_RDWR;
	else if (!strcmp(mode, "w")) flags = O_WRONLY | O_CREAT | O_TRUNC;
	else if (!strcmp(mode, "w+")) flags = O_RDWR | O_CREAT | O_TRUNC;
	else xsUnknownError("invalid mode %s", mode);
	fd = openat(dir, path, flags | O_CLOEXEC, 0600);
	if (fd < 0)
		XR_FAIL("open", path);
	xrFileHandle(the, fd, 0);
}

static void xr_files_delete(xsMachine* the)
{
	char path[256];
	struct stat status;
	int dir = xrFileOf(the, 0, 1);
	xrPathOf(the, 1, path, sizeof path);
	if (fstatat(dir, path, &status, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT) {
			xsResult = xsFalse;
			return;
		}
		XR_FAIL("delete", path);
	}
	if (unlinkat(dir, path, S_ISDIR(status.st_mode) ? AT_REMOVEDIR : 0) < 0)
		XR_FAIL("delete", path);
	xsResult = xsTrue;
}

static void xr_files_move(xsMachine* the)
{
	char from[256], to[256];
	int dir = xrFileOf(the, 0, 1);
	xrPathOf(the, 1, from, sizeof from);
	xrPathOf(the, 2, to, sizeof to);
	if (renameat(dir, from, dir, to) < 0)
		xsUnknownError("move %s to %s: %s", from, to, strerror(errno));
}

/* status(dir, path): {size, mode} or undefined when there is nothing there (files.js makes that a Status of mode 0, as Moddable). */
static void xr_files_status(xsMachine* the)
{
	char path[256];
	struct stat status;
	int dir = xrFileOf(the, 0, 1);
	xrPathOf(the, 1, path, sizeof path);
	if (fstatat(dir, path, &status, 0) < 0) {
		if (errno == ENOENT)
			return;
		XR_FAIL("status", path);
	}
	xsVars(1);
	xsResult = xsNewObject();
	xsVar(0) = xsNumber((double)status.st_size);
	xsSet(xsResult, xsID("size"), xsVar(0));
	xsVar(0) = xsInteger((xsIntegerValue)status.st_mode);
	xsSet(xsResult, xsID("mode"), xsVar(0));
}

/* names(dir): the entries, without "." and "..". */
static void xr_files_names(xsMachine* the)
{
	int dir = xrFileOf(the, 0, 1);
	int fd = dup(dir), i = 0;
	DIR* listing;
	struct dirent* entry;
	if (fd < 0 || !(listing = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		XR_FAIL("scan", ".");
	}
	rewinddir(listing);
	xsVars(1);
	xsResult = xsNewArray(0);
	while ((entry = readdir(listing))) {
		if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
			continue;
		xsVar(0) = xsString(entry->d_name);
		xsSetAt(xsResult, xsInteger(i++), xsVar(0));
	}
	closedir(listing);
}

/* flush(handle): fsync of a file, or of a directory (its entries: creations, renames, removals). */
static void xr_files_flush(xsMachine* the)
{
	xrFile* file = xsGetHostData(xsArg(0));
	if (!file || file->fd < 0)
		xsUnknownError("flush of a closed file");
	if (fsync(file->fd) < 0)
		XR_FAIL("flush", file->directory ? "directory" : "file");
}

static void xr_files_close(xsMachine* the)
{
	xrFile* file = xsGetHostData(xsArg(0));
	if (file && file->fd >= 0) {
		close(file->fd);
		file->fd = -1;
	}
}

/* read(file, arrayBuffer, offset, length, position): bytes read (fewer at the end of the file). */
static void xr_files_read(xsMachine* the)
{
	int fd = xrFileOf(the, 0, 0);
	size_t length, done = 0;
	unsigned char* data = xrIoBytes(the, 1, &length);
	double position = xsToNumber(xsArg(4));
	while (done < length) {
		ssize_t n = pread(fd, data + done, length - done, (off_t)position + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			XR_FAIL("read", "file");
		if (n == 0)
			break;
		done += (size_t)n;
	}
	xsResult = xsInteger((xsIntegerValue)done);
}

/* write(file, arrayBuffer, offset, length, position): all of it, or an error. */
static void xr_files_write(xsMachine* the)
{
	int fd = xrFileOf(the, 0, 0);
	size_t length, done = 0;
	unsigned char* data = xrIoBytes(the, 1, &length);
	double position = xsToNumber(xsArg(4));
	while (done < length) {
		ssize_t n = pwrite(fd, data + done, length - done, (off_t)position + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			XR_FAIL("write", "file");
		done += (size_t)n;
	}
	xsResult = xsInteger((xsIntegerValue)done);
}

static void xr_files_size(xsMachine* the)
{
	struct stat status;
	int fd = xrFileOf(the, 0, 0);
	if (fstat(fd, &status) < 0)
		XR_FAIL("status", "file");
	xsResult = xsNumber((double)status.st_size);
}

static void xr_files_setSize(xsMachine* the)
{
	int fd = xrFileOf(the, 0, 0);
	if (ftruncate(fd, (off_t)xsToNumber(xsArg(1))) < 0)
		XR_FAIL("setSize", "file");
}

void xrIoInstallFiles(xsMachine* the, xsSlot* target)
{
	xrIoDefine(the, target, XR_IO_SCRATCH, "root", xr_files_root, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "openDirectory", xr_files_openDirectory, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "createDirectory", xr_files_createDirectory, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "openFile", xr_files_openFile, 3);
	xrIoDefine(the, target, XR_IO_SCRATCH, "delete", xr_files_delete, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "move", xr_files_move, 3);
	xrIoDefine(the, target, XR_IO_SCRATCH, "status", xr_files_status, 2);
	xrIoDefine(the, target, XR_IO_SCRATCH, "names", xr_files_names, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "flush", xr_files_flush, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "close", xr_files_close, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "read", xr_files_read, 5);
	xrIoDefine(the, target, XR_IO_SCRATCH, "write", xr_files_write, 5);
	xrIoDefine(the, target, XR_IO_SCRATCH, "size", xr_files_size, 1);
	xrIoDefine(the, target, XR_IO_SCRATCH, "setSize", xr_files_setSize, 2);
}
