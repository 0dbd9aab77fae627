// The voice side of `npm run device` on the Node host: where the microphone's speech comes from (WAV files said
// one per turn, or the system microphone with Enter as the tap-to-talk button) and where the answers go (a WAV
// file, the system speaker), plus the attention state as one log line per change, and on a terminal the console
// as the device's buttons (console-buttons.ts). A turn the network cut is
// reported and not said again: the rest of its file is dropped, the next file waits for the device to be ready.
import { createInterface } from 'node:readline';
import { CONSOLE_BUTTONS_HELP, consoleButton } from './console-buttons.js';
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
  /** Device callback onTurnFailed: the file being said is abandoned, the next one waits for the device to be ready. */
  turnFailed(reason: string): void;
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
  /** The file of the turn in progress, from its tap until the light is back to IDLE or the turn failed. */
  let saying: string | undefined;

  // The next WAV once the device is ready and idle (the previous answer played), so each file is one turn and
  // starts at its own beginning with a tap of its own.
  const nextTurn = () => {
    const microphone = device?.microphone;
    if (saying !== undefined || turns.length === 0 || device?.state !== 'ready' || state !== 'IDLE' || microphone?.state !== 'closed') return;
    const path = turns.shift()!;
    log.info(`tap: saying ${path}`);
    microphone.tap();
    if (microphone.state === 'closed') {
      // Not opened (the connection went in between): the file waits for the next ready.
      turns.unshift(path);
      return;
    }
    saying = path;
    (audioIn as { last?: WavAudioIn }).last?.say(readWav(path));
  };

  return {
    audio: wanted ? { audioIn, audioOut, opus: nodeOpus } : undefined,
    ready(d) {
      device = d;
      if (!prompt && process.stdin.isTTY) {
        // The console is the device's buttons (hosts/node/console-buttons.ts).
        prompt = createInterface({ input: process.stdin });
        prompt.on('line', (line) => {
          const button = consoleButton(line);
          if (!button) return log.warn(`no button ${JSON.stringify(line.trim())}: ${CONSOLE_BUTTONS_HELP}`);
          log.info(`button ${button}`);
          device?.controls.button(button, true);
          device?.controls.button(button, false);
        });
        log.info(`${CONSOLE_BUTTONS_HELP}; Ctrl-C ends`);
      }
      if (!fromMic) nextTurn();
    },
    attention(next) {
      if (next === state) return;
      log.info(`LED ${state} → ${next}`);
      const wasBusy = state !== 'IDLE';
      state = next;
      if (next !== 'IDLE') return;
      if (wasBusy) saying = undefined;
      setTimeout(nextTurn, 300);
    },
    turnFailed(reason) {
      // Not said again: the cloud may have acted on what it heard (a reminder set), so a replay could do it twice.
      const dropped = (audioIn as { last?: WavAudioIn }).last?.abandon() ?? 0;
      if (saying !== undefined) log.warn(`${saying}: turn failed (${reason}); not retried, ${(dropped / 16000).toFixed(1)} s of it left unsaid`);
      saying = undefined;
    },
    close() {
      prompt?.close();
      player?.close();
    },
  };
}
