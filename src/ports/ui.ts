// Buttons and attention LEDs. On a board these are GPIOs; on hosts they are keys, a CLI or a test driver.

export type Button = 'talk' | 'micOff' | 'volumeUp' | 'volumeDown' | 'action' | 'play' | 'pause' | 'next' | 'previous';

export type AttentionLight =
  | 'IDLE' | 'LISTENING' | 'THINKING' | 'SPEAKING' | 'ALERTING'
  | 'NOTIFICATION_AVAILABLE' | 'DO_NOT_DISTURB' | 'MICROPHONE_OFF'
  /** The device's own: a turn failed (the connection was lost during it), shown while its error tone plays. */
  | 'ERROR';

export interface UiOptions {
  /** A button went down (`pressed` true) or up. Must not block. */
  onButton(button: Button, pressed: boolean): void;
}

/** A connected endpoint's state (src/ais/endpoints.ts): on or off, brightness 0–100. */
export interface EndpointLook {
  power: boolean;
  brightness: number;
}

export interface Ui {
  /** Shows the attention state on the LEDs. */
  setAttention(light: AttentionLight): void;
  /**
   * Drives an endpoint the device proxies: `lamp` (a GPIO, brightness as its PWM duty) or `ring` (the LEDs'
   * brightness, off dark). Optional: a board without it leaves them to the app (Device's onEndpoint).
   */
  setEndpoint?(id: 'lamp' | 'ring', look: EndpointLook): void;
  close(): void;
}

export type UiFactory = (options: UiOptions) => Ui;
