// `embedded:io/audio/out` on xsrun: ECMA-419 audio out as Moddable's drivers give it, over io_audio.c, with a
// WAV file for a loudspeaker: new AudioOut({sampleRate, bitsPerSample: 16, channels, onWritable(bytes, frames),
// path}) records everything the speaker plays, silence included, from start() (xsrun's `path` option).
//   write(buffer)  queues the ArrayBuffer or view; returns its byte length ("invalid size" beyond the room
//                  onWritable reported)
//   volume         0 to 1, applied as the speaker plays (Moddable's Linux driver: scaled by 256 in C)
import { AudioDevice, call, native } from './audio.js';

export default class AudioOut extends AudioDevice {
  #volume = 1;

  constructor(options) {
    super(options, true, 'onWritable');
  }

  write(samples) {
    return call('write', this.handle, samples, 'write() samples');
  }

  get volume() { return this.#volume; }
  set volume(volume) {
    if (typeof volume !== 'number' || !(volume >= 0 && volume <= 1)) throw new RangeError(`volume must be 0 to 1, got ${volume}`);
    this.#volume = volume;
    native.setVolume(this.handle, Math.round(volume * 256));
  }
}
