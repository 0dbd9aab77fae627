// The voice side of `npm run device` on the Node host: where the microphone's speech comes from (WAV files said
// one per turn, or the system microphone with Enter as the tap-to-talk button) and where the answers go (a WAV
// file, the system speaker), plus the attention state as one log line per change.
import { createInterface } from 'node:readline';
import type { AttentionState, Device, DevicePorts } from '../../src/app/device.js';
import type { Logger } from '../../src/ports/log.js';
import { liveAudio, wavAudioIn, wavAudioOut, type SoxPlayer, type WavAudioIn } from './audio.js';
import { nodeOpus } from './opus.js';
import { readWav } from './wav.js';

export interface VoiceOptions {
  /** WAV files (16 kHz mono 16-bit) said one per turn, each after a tap. */
  say?: string[];
  /** Where the played answers are written when the device stops. */
  out?: string;
  /** The system microphone (sox `rec`); Enter taps. */
  mic?: boolean;
  /** The system speaker (sox `play`). */
  play?: boolean;
}

export interface NodeVoice {
  /** The device's audio ports; undefined without any voice option. */
  audio?: DevicePorts['audio'];
  ready(device: Device): void;
  attention(state: AttentionState): void;
  close(): void;
}

export function nodeVoice(options: VoiceOptions, log: Logger): NodeVoice {
  const wanted = options.mic || options.play || options.out !== undefined || (options.say?.length ?? 0) > 0;
  const live = liveAudio();
  if ((options.mic && !live.audioIn) || (options.play && !live.openPlayer)) log.warn(`${live.hint}; using WAV files instead`);
  let player: SoxPlayer | undefined;
  if (options.play && live.openPlayer) player = live.openPlayer((error) => log.warn(error.message));
  const audioOut = wavAudioOut({ path: options.out, onPlayed: player ? (frame) => player!.write(frame) : undefined });
  const fromMic = options.mic && live.audioIn !== undefined;
  const audioIn = fromMic ? live.audioIn! : wavAudioIn();
  const turns = [...(options.say ?? [])];
  let device: Device | undefined;
  let state: AttentionState = 'IDLE';
  let prompt: ReturnType<typeof createInterface> | undefined;

  // The next WAV once the device is idle again (its answer played), so each file is one turn.
  const nextTurn = () => {
    const path = turns.shift();
    if (!path || !device?.microphone) return;
    log.info(`tap: saying ${path}`);
    device.microphone.tap();
    (audioIn as { last?: WavAudioIn }).last?.say(readWav(path));
  };

  return {
    audio: wanted ? { audioIn, audioOut, opus: nodeOpus } : undefined,
    ready(d) {
      device = d;
      if (fromMic && !prompt && process.stdin.isTTY) {
        prompt = createInterface({ input: process.stdin });
        prompt.on('line', () => { log.info('tap'); device?.microphone?.tap(); });
        log.info('press Enter and speak (tap-to-talk); Ctrl-C ends');
      } else if (state === 'IDLE') nextTurn();
    },
    attention(next) {
      if (next === state) return;
      log.info(`LED ${state} → ${next}`);
      state = next;
      if (next === 'IDLE') setTimeout(nextTurn, 300);
    },
    close() {
      prompt?.close();
      player?.close();
    },
  };
}
