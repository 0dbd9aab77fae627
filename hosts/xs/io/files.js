// `embedded:storage/files` on xsrun: Moddable's ECMA-419 files (modules/io/files/posix) over io_files.c.
// The default export is the root Directory; on xsrun the root is the file system's "/" (Moddable's posix
// build roots it at config.files), so a path below it is an absolute path without its leading "/".
//   directory.openFile({path, mode: "r" | "r+" | "w" | "w+"}) -> File
//   directory.openDirectory({path}) -> Directory
//   directory.createDirectory(path) -> true, or false when that directory is there already; a path string only
//   directory.delete(path) -> false when nothing was there; directory.move(from, to) (an atomic rename)
//   directory.status(path) -> {size, mode, isFile(), isDirectory()}; {mode: 0} when nothing is there (no throw)
//   directory.scan() -> an iterator of names; directory.flush(): fsync of the directory (ours, see io_files.c)
//   file.read(buffer | count, position), file.write(buffer, position), file.flush() (fsync), file.status(),
//   file.setSize(length), file.close()
const native = xsrun.io.files;

function parts(buffer, what) {
  if (buffer instanceof ArrayBuffer) return [buffer, 0, buffer.byteLength];
  if (ArrayBuffer.isView(buffer)) return [buffer.buffer, buffer.byteOffset, buffer.byteLength];
  throw new TypeError(`${what} must be an ArrayBuffer or a view of one`);
}

function pathOf(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with a path');
  return options.path;
}

function position(value) {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`position must be an integer >= 0, got ${value}`);
  return value;
}

const S_IFMT = 0o170000, S_IFREG = 0o100000, S_IFDIR = 0o040000;

class Status {
  #mode;
  constructor(status) {
    if (status.size !== undefined) this.size = status.size;
    this.mode = this.#mode = status.mode;
  }
  isFile() { return (this.#mode & S_IFMT) === S_IFREG; }
  isDirectory() { return (this.#mode & S_IFMT) === S_IFDIR; }
  isSymbolicLink() { return false; }
}

class Handle {
  #handle;
  constructor(handle) { this.#handle = handle; }
  close() {
    if (this.#handle === undefined) return;
    native.close(this.#handle);
    this.#handle = undefined;
  }
  flush() { native.flush(this.#live()); }
  #live() {
    if (this.#handle === undefined) throw new Error('closed');
    return this.#handle;
  }
  get handle() { return this.#live(); }
}

class File extends Handle {
  read(what, at) {
    if (typeof what === 'number') {
      const buffer = new ArrayBuffer(what);
      const count = native.read(this.handle, buffer, 0, what, position(at));
      return count === what ? buffer : buffer.slice(0, count);
    }
    const [buffer, offset, length] = parts(what, 'read() buffer');
    return native.read(this.handle, buffer, offset, length, position(at));
  }
  write(data, at) {
    const [buffer, offset, length] = parts(data, 'write() data');
    return native.write(this.handle, buffer, offset, length, position(at));
  }
  status() { return new Status({ size: native.size(this.handle), mode: S_IFREG }); }
  setSize(length) { native.setSize(this.handle, length); }
}

class Directory extends Handle {
  openFile(options) { return new File(native.openFile(this.handle, pathOf(options), options.mode)); }
  openDirectory(options) { return new Directory(native.openDirectory(this.handle, pathOf(options))); }
  createDirectory(path) {
    // Moddable's takes the string itself (an options object became a folder named "[object Object]" there).
    if (typeof path !== 'string') throw new TypeError(`createDirectory takes a path string, got ${path === null ? 'null' : typeof path}`);
    if (this.status(path).isDirectory()) return false;
    native.createDirectory(this.handle, path);
    return true;
  }
  delete(path) { return native.delete(this.handle, path); }
  move(from, to) { native.move(this.handle, from, to); }
  status(path) {
    if (path === undefined) throw new Error('path required');
    // Nothing there: a Status of mode 0, as Moddable's (it throws only for other failures).
    return new Status(native.status(this.handle, path) ?? { mode: 0 });
  }
  scan() { return native.names(this.handle)[Symbol.iterator](); }
  [Symbol.iterator]() { return this.scan(); }
}

export default Object.freeze(new Directory(native.root('/')));
