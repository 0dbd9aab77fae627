// The default front end of the XS devices (xsrun's hosts/xs/device.ts, the firmware image's hosts/cortex-m/device.ts)
// and of the Moddable SDK build (main.ts, over dsp.ts): native/dsp's echo canceller and wake word over the host's
// binding (src/audio/native-dsp.ts), set from the device's command line (on the SDK build, manifest config.frontEnd):
//   --aec-taps N          the canceller's filter in samples (default 1,024 = 64 ms; a multiple of 64; 0: no canceller)
//   --output-delay-ms N   the board's speaker-to-microphone delay (FrontEndOptions.outputDelayMs; default 0)
//   --no-wake-word        no detector: only the button opens the microphone
// Each takes its C state once here, outside the XS heap (aecStateBytes, kwsStateBytes on the XS hosts' `natives`).
import type { DevicePorts } from '../../src/app/device.js';
import { DEFAULT_AEC_TAPS, NativeEchoCanceller, NativeWakeWord, type DspBinding } from '../../src/audio/native-dsp.js';

type FrontEndPorts = Pick<NonNullable<DevicePorts['audio']>, 'echoCanceller' | 'wakeWord' | 'outputDelayMs'>;

/** The number after `flag` in `args`, or `fallback` when the flag is absent; a RangeError naming the flag when it is not a whole number ≥ 0. */
function numberArg(args: readonly string[], flag: string, fallback: number): number {
  const at = args.indexOf(flag);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${flag} expected a whole number ≥ 0, got ${JSON.stringify(args[at + 1] ?? '')}`);
  return value;
}

export function dspFrontEnd(binding: DspBinding, args: readonly string[]): FrontEndPorts {
  const taps = numberArg(args, '--aec-taps', DEFAULT_AEC_TAPS);
  return {
    echoCanceller: taps > 0 ? new NativeEchoCanceller(binding, { taps }) : undefined,
    wakeWord: args.includes('--no-wake-word') ? undefined : new NativeWakeWord(binding),
    outputDelayMs: numberArg(args, '--output-delay-ms', 0),
  };
}
