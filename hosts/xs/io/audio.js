// The JavaScript half of xsrun's ECMA-419 audio in and out (audioin.js, audioout.js) over io_audio.c: the option
// checks of Moddable's drivers (modules/io/audioin/lin, modules/io/audioout/lin) and the buffer forms of read()
// and write(). 16-bit LPCM only (8-bit is refused: RangeError). xsrun's own options: `periodFrames` (sample
// frames per hardware period, default sampleRate / 32 as on Linux), and for audio out `path`, the WAV file that
// records what the speaker plays.
const native = xsrun.io.audio;

export class AudioDevice {
  #handle;
  #sampleRate;
  #channels;

  constructor(options, output, callbackName) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const { sampleRate, bitsPerSample = 16, channels = 1, audioType = 'LPCM', format = 'buffer', queueLength = 8, periodFrames = 0 } = options;
    if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) throw new RangeError(`invalid sample rate ${sampleRate}`);
    if (bitsPerSample !== 16) throw new RangeError(`invalid bits per sample ${bitsPerSample}: 16 only on xsrun`);
    if (channels !== 1 && channels !== 2) throw new RangeError(`invalid number of channels ${channels}`);
    if (audioType !== 'LPCM') throw new RangeError(`invalid audioType ${audioType}`);
    if (format !== 'buffer') throw new RangeError(`invalid format ${format}`);
    const callback = options[callbackName];
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError(`${callbackName} must be a function`);
    if (output && options.path !== undefined && typeof options.path !== 'string') throw new TypeError('path must be a string');
    this.#sampleRate = sampleRate;
    this.#channels = channels;
    this.#handle = native.open(output, sampleRate, channels, queueLength, periodFrames, this, callback, output ? options.path : undefined);
  }

  start() { native.start(this.#live()); }
  stop() { native.stop(this.#live()); }
  close() {
    if (this.#handle === undefined) return;
    native.close(this.#handle);
    this.#handle = undefined;
  }

  get sampleRate() { return this.#sampleRate; }
  get channels() { return this.#channels; }
  get bitsPerSample() { return 16; }
  get audioType() { return 'LPCM'; }
  get format() { return 'buffer'; }
  set format(format) { if (format !== 'buffer') throw new RangeError(`invalid format ${format}`); }

  /** The native handle, for the subclasses' calls. */
  get handle() { return this.#live(); }

  #live() {
    if (this.#handle === undefined) throw new Error('audio device closed');
    return this.#handle;
  }
}

/** A Uint8Array or Int16Array passes as it is (nothing allocated); another buffer becomes a Uint8Array on it. */
export function call(method, handle, data, what) {
  if (data instanceof Uint8Array) return native[method](handle, data, 1);
  if (data instanceof Int16Array) return native[method](handle, data, 2);
  if (data instanceof ArrayBuffer) return native[method](handle, new Uint8Array(data), 1);
  if (ArrayBuffer.isView(data)) return native[method](handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 1);
  throw new TypeError(`${what} must be an ArrayBuffer or a view of one`);
}

export { native };
