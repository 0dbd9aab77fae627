// The JavaScript half of xsrun's ECMA-419 stream sockets (TCP and TLS): argument checks and the read/write
// forms of Moddable's sockets, over the natives of io_tcp.c (xsrun.io.tcp / xsrun.io.tls share read, write,
// writable and close). Callbacks run with `this` set to the socket, as Moddable's do.
//   read()        an ArrayBuffer with every readable byte (undefined when there is none)
//   read(count)   an ArrayBuffer of `count` bytes, at most what onReadable reported ("invalid" beyond)
//   read(buffer)  fills the ArrayBuffer or view; returns its length
//   write(buffer) queues the ArrayBuffer or view, all or nothing ("would block"); returns the bytes still writable
// `format` is "buffer" only ("number", byte by byte, is not served: RangeError, as Moddable does for a format
// it lacks).

// A buffer goes to the natives as its ArrayBuffer, byte offset and length, taken one by one: no array per call
// (a socket reads and writes every audio frame).
function check(buffer, what) {
  if (!(buffer instanceof ArrayBuffer) && !ArrayBuffer.isView(buffer)) throw new TypeError(`${what} must be an ArrayBuffer or a view of one`);
}

function bufferOf(buffer) {
  return buffer instanceof ArrayBuffer ? buffer : buffer.buffer;
}

function offsetOf(buffer) {
  return buffer instanceof ArrayBuffer ? 0 : buffer.byteOffset;
}

export function checkFormat(format) {
  if (format !== undefined && format !== 'buffer') throw new RangeError(`unimplemented format ${JSON.stringify(format)}: "buffer" only`);
}

export class Stream {
  #native;
  #handle;
  #readable = 0;

  /** `open(options, target)` makes the native connection; the callbacks of `options` run on this object. */
  constructor(native, options, open) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkFormat(options.format);
    for (const name of ['onReadable', 'onWritable', 'onError']) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${name} must be a function`);
    }
    this.#native = native;
    this.#handle = open(options, this);
  }

  read(what) {
    const native = this.#native;
    const handle = this.#live();
    if (what === undefined) {
      const count = native.readable(handle);
      if (!count) return undefined;
      const result = new ArrayBuffer(count);
      native.read(handle, result, 0, count);
      return result;
    }
    if (typeof what === 'number') {
      const result = new ArrayBuffer(what);
      native.read(handle, result, 0, what);
      return result;
    }
    check(what, 'read() buffer');
    return native.read(handle, bufferOf(what), offsetOf(what), what.byteLength);
  }

  write(data) {
    check(data, 'write() data');
    return this.#native.write(this.#live(), bufferOf(data), offsetOf(data), data.byteLength);
  }

  close() {
    if (this.#handle === undefined) return;
    this.#native.close(this.#handle);
    this.#handle = undefined;
  }

  get format() {
    return 'buffer';
  }

  set format(format) {
    checkFormat(format);
  }

  #live() {
    if (this.#handle === undefined) throw new Error('socket closed');
    return this.#handle;
  }
}
