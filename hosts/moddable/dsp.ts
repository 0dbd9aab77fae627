// native/dsp's echo canceller and wake-word detector through dsp.c (XS in C): the binding src/audio/native-dsp.ts
// wraps, as the XS hosts' `natives` is. A C state is a Native instance, freed by the collector; the C side checks
// that each call is given its own kind (a detector given as a canceller is a TypeError). The C side reads only byte
// views, so a frame goes as its Int16Array's buffer, byte offset and length: nothing is allocated per frame.
import type { DspBinding, DspState } from '../../src/audio/native-dsp.js';

class EchoCancellerState extends Native('xs_ais_aec_destructor') {
  constructor(frameSamples: number, taps: number) {
    super();
    native('xs_ais_aec').call(this, frameSamples, taps);
  }
}

class WakeWordState extends Native('xs_ais_kws_destructor') {
  constructor() {
    super();
    native('xs_ais_kws').call(this);
  }
}

const aecProcess = native('xs_ais_aec_process');
const aecReset = native('xs_ais_aec_reset');
const kwsProcess = native('xs_ais_kws_process');
const kwsReset = native('xs_ais_kws_reset');

export const nativeDsp: DspBinding = {
  aecCreate: (frameSamples, taps): DspState => new EchoCancellerState(frameSamples, taps),
  aecProcess: (canceller, mic, reference, out) => {
    aecProcess.call(canceller, mic.buffer, mic.byteOffset, mic.length, reference.buffer, reference.byteOffset, reference.length,
      out.buffer, out.byteOffset, out.length);
  },
  aecReset: (canceller) => {
    aecReset.call(canceller);
  },
  kwsCreate: (): DspState => new WakeWordState(),
  kwsProcess: (detector, frame) => kwsProcess.call(detector, frame.buffer, frame.byteOffset, frame.length) as number,
  kwsReset: (detector) => {
    kwsReset.call(detector);
  },
};
