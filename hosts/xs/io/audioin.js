// `embedded:io/audio/in` on xsrun: ECMA-419 audio in as Moddable's drivers give it, over io_audio.c, with a WAV
// file for a microphone: new AudioIn({sampleRate, bitsPerSample: 16, channels, onReadable(bytes, frames)}).
//   read(buffer)  fills the ArrayBuffer or view from the readable bytes; returns its byte length
//   read(count)   a new ArrayBuffer of `count` bytes; read() all readable bytes ("invalid size" beyond them)
//   say(path)     xsrun only: the WAV at `path` (16-bit PCM at this rate) is heard after what is queued, then
//                 silence; returns the sample frame, counted from the first one, where it starts
//   abandon()     xsrun only: the speech still queued is dropped (the person stops: their turn failed), silence
//                 follows; returns the sample frames dropped
import { AudioDevice, call, native } from './audio.js';

export default class AudioIn extends AudioDevice {
  constructor(options) {
    super(options, false, 'onReadable');
  }

  read(what) {
    if (what === undefined || typeof what === 'number') {
      const result = new ArrayBuffer(what ?? native.readable(this.handle));
      call('read', this.handle, result, 'read() buffer');
      return result;
    }
    return call('read', this.handle, what, 'read() buffer');
  }

  say(path) {
    if (typeof path !== 'string') throw new TypeError('say(path): path must be a string');
    return native.say(this.handle, path);
  }

  abandon() {
    return native.abandon(this.handle);
  }
}
