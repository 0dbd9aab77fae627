// The options of the opus port (src/ports/opus.ts), checked the same way by every host's implementation
// (hosts/node/opus.ts over @evan/opus, native-opus.ts over libopus on the XS hosts).
import type { OpusEncoderOptions } from '../ports/opus.js';

const RATES = [8000, 12000, 16000, 24000, 48000];
const APPLICATIONS = ['voip', 'audio', 'restricted-lowdelay'];

export function checkOpusDecoderOptions(options: { sampleRate: number; channels: number }): void {
  if (RATES.indexOf(options.sampleRate) < 0) {
    throw new RangeError(`Opus sample rate expected 8000, 12000, 16000, 24000 or 48000, got ${options.sampleRate}`);
  }
  if (options.channels !== 1) throw new RangeError(`mono expected, got ${options.channels} channels`);
}

export function checkOpusEncoderOptions(options: OpusEncoderOptions): void {
  checkOpusDecoderOptions(options);
  if (!(options.bitsPerSecond >= 6000 && options.bitsPerSecond <= 510000)) {
    throw new RangeError(`bitsPerSecond expected 6000..510000, got ${options.bitsPerSecond}`);
  }
  if (APPLICATIONS.indexOf(options.application) < 0) {
    throw new RangeError(`application expected voip, audio or restricted-lowdelay, got ${String(options.application)}`);
  }
}
