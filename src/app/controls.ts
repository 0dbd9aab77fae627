// The device's buttons (src/ports/ui.ts) and what each does, with the components of the current connection:
//   talk        tap-to-talk (press opens the microphone) or, for a PRESS_AND_HOLD device, hold-to-talk
//               (press opens, release closes)
//   micOff      microphone off/on: enforced by the device (an open microphone closes; taps, wake words and
//               OpenMicrophone do nothing but time out, §4.4); shown as MICROPHONE_OFF; survives a reboot
//   volumeUp/Down  ±10: the alert volume while an alert rings (AlertVolumeChanged), else the speaker volume
//               (VolumeChanged, §4.5); both persisted and reported after a reconnect
//   action      stops a ringing alert (one the cloud rings: also ButtonCommandIssued STOP); otherwise stops
//               what plays: ButtonCommandIssued STOP
//   play/pause/next/previous  ButtonCommandIssued {command} (§4.5); PAUSE also stops local playback (SDK)

import type { Logger } from '../ports/log.js';
import type { Storage } from '../ports/storage.js';
import type { Button } from '../ports/ui.js';
import type { Alerts } from '../ais/alerts.js';
import type { Attention } from '../ais/attention.js';
import type { Microphone, MicrophoneInitiator } from '../ais/microphone.js';
import type { Speaker } from '../ais/speaker.js';

/** Where the microphone-off switch persists. */
export const MICROPHONE_OFF_KEY = 'app.micOff';
export const VOLUME_STEP = 10;

export const BUTTON_COMMANDS = { play: 'PLAY', pause: 'PAUSE', next: 'NEXT', previous: 'PREVIOUS' } as const;

/** The parts of the device a button acts on; those absent (no audio, not connected) are skipped. */
export interface ControlTarget {
  microphone?: Microphone;
  speaker?: Speaker;
  alerts?: Alerts;
  attention?: Attention;
  sendEvent?(name: string, payload?: Record<string, unknown>): boolean;
}

export interface ControlsOptions {
  storage: Storage;
  log: Logger;
  initiator: MicrophoneInitiator;
  /** The current parts (they change with each connection). */
  target(): ControlTarget;
}

export class Controls {
  private readonly options: ControlsOptions;
  private micOff: boolean;

  constructor(options: ControlsOptions) {
    if (!options?.storage || !options.log || typeof options.target !== 'function') throw new TypeError('Controls needs options.storage, log and target()');
    this.options = options;
    const stored = options.storage.get(MICROPHONE_OFF_KEY);
    this.micOff = stored !== undefined && stored.length === 1 && stored[0] === 1;
  }

  get microphoneOff(): boolean { return this.micOff; }

  /** Applies the persisted switches to new parts (after each connect). */
  apply(): void {
    const t = this.options.target();
    t.microphone?.setMuted(this.micOff);
    t.attention?.setMicrophoneOff(this.micOff);
  }

  /** A button went down (`pressed`) or up: the ui port's onButton. */
  button(button: Button, pressed: boolean): void {
    const t = this.options.target();
    if (button === 'talk') {
      if (!t.microphone) return this.options.log.info('talk: no microphone');
      if (this.options.initiator === 'PRESS_AND_HOLD') return pressed ? t.microphone.press() : t.microphone.release();
      if (pressed) t.microphone.tap();
      return;
    }
    if (!pressed) return;
    switch (button) {
      case 'micOff': return this.setMicrophoneOff(!this.micOff);
      case 'volumeUp': return this.volumeStep(VOLUME_STEP);
      case 'volumeDown': return this.volumeStep(-VOLUME_STEP);
      case 'action': {
        // A local ring ends here; one the cloud rings (or is about to) also needs the cloud told.
        const mode = t.alerts?.ringing?.mode;
        if (t.alerts?.stop() !== undefined && mode === 'local') return;
        t.speaker?.stop();
        t.sendEvent?.('ButtonCommandIssued', { command: 'STOP' });
        return;
      }
      default: {
        const command = BUTTON_COMMANDS[button];
        if (command === 'PAUSE') t.speaker?.stop();
        t.sendEvent?.('ButtonCommandIssued', { command });
      }
    }
  }

  setMicrophoneOff(off: boolean): void {
    this.micOff = off;
    this.options.storage.set(MICROPHONE_OFF_KEY, Uint8Array.of(off ? 1 : 0));
    this.options.log.info(`microphone ${off ? 'off' : 'on'}`);
    this.apply();
  }

  private volumeStep(delta: number): void {
    const t = this.options.target();
    const clamp = (v: number) => Math.max(0, Math.min(100, v));
    if (t.alerts?.ringing) return t.alerts.setVolume(clamp(t.alerts.volume + delta));
    if (t.speaker) t.speaker.setVolume(clamp(t.speaker.volume + delta));
  }
}
