// The device in the browser: the same application as on the MCU (src/app/device.ts) on the browser host's ports,
// with the page as its board: a start button (a browser starts audio only from a user's gesture), the tap-to-talk
// button, the LED ring, the microphone level and a log. It links like any device (the code shows on the page), then
// registers and connects over MQTT over WebSocket. The page's device id is kept in IndexedDB with its keys.
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { createPortableCrypto } from '../../src/crypto/portable.js';
import { Logger, type LogLevel } from '../../src/ports/log.js';
import type { UiFactory } from '../../src/ports/ui.js';
import { webAudio, type AudioMeters } from './audio.js';
import { loadBrowserOpus } from './opus.js';
import { browserClock, fetchHttpClient, openIndexedDbStorage } from './ports.js';
import { webSocketFactory } from './socket.js';

/** What the emulator tells the page (GET config.json?id=…): the device's configuration and the broker's WebSocket. */
interface PageConfig {
  device: DeviceConfig;
  mqttWebSocketUrl: string;
}

const $ = <T extends Element>(selector: string) => document.querySelector(selector) as T;
const meters: AudioMeters = { micPeak: 0, playedFrames: 0 };

function show(selector: string, text: string): void {
  $(selector).textContent = text;
}

/** Log lines on the page (newest last, 200 kept) and on the console. */
function pageLogger(component: string): Logger {
  const pre = $<HTMLPreElement>('#log');
  return new Logger({
    write(level: LogLevel, from: string, message: string) {
      const line = `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase()} [${from}] ${message}`;
      console.log(line);
      pre.textContent = `${(pre.textContent ?? '').split('\n').slice(-199).join('\n')}\n${line}`;
      pre.scrollTop = pre.scrollHeight;
    },
  }, component, 'info');
}

/** The page as the board's buttons and LEDs. */
const pageUi: UiFactory = (options) => {
  const talk = $<HTMLButtonElement>('#talk');
  talk.disabled = false;
  talk.onpointerdown = () => options.onButton('talk', true);
  talk.onpointerup = () => options.onButton('talk', false);
  return {
    setAttention(light) {
      $('#ring').setAttribute('class', `ring ${light}`);
      document.body.dataset.attention = light;
      show('#attention', light);
    },
    // The ring's brightness is its opacity (off: a faint outline); the lamp is a line of text, the page's GPIO.
    setEndpoint(id, look) {
      if (id === 'ring') $('#ring').setAttribute('opacity', String(look.power ? Math.max(0.2, look.brightness / 100) : 0.1));
      else show('#lamp', look.power ? `on, ${look.brightness} %` : 'off');
    },
    close() {
      talk.disabled = true;
    },
  };
};

async function deviceId(): Promise<string> {
  const ids = await openIndexedDbStorage('ais-browser-device');
  let id = ids.get('id');
  if (!id) {
    const random = new Uint8Array(4);
    crypto.getRandomValues(random);
    id = new TextEncoder().encode(`browser-${[...random].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    ids.set('id', id);
  }
  return new TextDecoder().decode(id);
}

async function start(): Promise<void> {
  $<HTMLButtonElement>('#start').disabled = true;
  const context = new AudioContext({ sampleRate: 16000 });
  await context.resume();
  const id = await deviceId();
  show('#id', id);
  const response = await fetch(`config.json?id=${encodeURIComponent(id)}`);
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status} ${await response.text()}`);
  const config = await response.json() as PageConfig;
  const [storage, opus] = await Promise.all([openIndexedDbStorage(`ais-device-${id}`), loadBrowserOpus('opus.wasm')]);
  const log = pageLogger(id);
  const device = new Device({
    clock: browserClock, log, storage, http: fetchHttpClient, socket: webSocketFactory(config.mqttWebSocketUrl),
    crypto: createPortableCrypto((out) => { crypto.getRandomValues(out); }),
    audio: { ...webAudio(context, meters), opus },
    ui: pageUi,
  }, config.device, {
    onCode: (pair) => {
      const link = $<HTMLAnchorElement>('#code-link');
      link.href = pair.verificationUri;
      link.textContent = pair.verificationUri;
      show('#code', pair.userCode);
      $('#linking').removeAttribute('hidden');
    },
    onStateChange: (state) => {
      show('#state', state);
      document.body.dataset.state = state;
      if (state === 'ready') $('#linking').setAttribute('hidden', '');
    },
    onStopped: (reason) => show('#state', `stopped: ${reason}`),
  });
  device.start();
}

$('#start').addEventListener('click', () => void start().catch((error: Error) => show('#state', `failed: ${error.message}`)));
// The meters, for the eye (and for tests, as attributes).
setInterval(() => {
  $<HTMLMeterElement>('#level').value = meters.micPeak;
  document.body.dataset.micPeak = meters.micPeak.toFixed(3);
  document.body.dataset.playedFrames = String(meters.playedFrames);
  show('#played', `${(meters.playedFrames * 0.02).toFixed(1)} s played`);
}, 50);
