// A crowd of Node-host devices in one process, for bench/emulator-load.ts: the emulator runs in the parent, so
// its CPU and memory are measured apart from the devices'. Each device is the real application (src/app/device.ts)
// with its own data folder: account linking, registration, MQTT, SynchronizeState.
// argv[2]: {"cloud": URL, "mqttPort": N, "dataDir": DIR}. JSON lines on stdin:
//   {"add": [ids], "voice": bool}            start devices (with real-time WAV audio when voice)
//   {"say": id, "text": "...", "as": voice}   tap, then say the synthesised text into that device's microphone
// JSON lines on stdout: {"code": userCode} to approve, {"ready": id}, {"stopped": id, "reason": "..."}.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { wavAudioIn, wavAudioOut, type WavAudioIn } from '../hosts/node/audio.js';
import { nodeOpus } from '../hosts/node/opus.js';
import { nodePorts } from '../hosts/node/ports.js';
import { Device } from '../src/app/device.js';
import { Logger, silentSink } from '../src/ports/log.js';
import { DEMO_AWS_ACCOUNT, DEMO_LWA_CLIENT } from '../emulator/cloud.js';
import { DEV_CA_PEM } from '../emulator/dev-pki.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../emulator/voice/tts.js';

const { cloud, mqttPort, dataDir } = JSON.parse(process.argv[2]) as { cloud: string; mqttPort: number; dataDir: string };
const log = new Logger(silentSink, 'load');
const tls = cloud.startsWith('https:') ? { ca: DEV_CA_PEM } : undefined;
const devices = new Map<string, { device: Device; mic?: () => WavAudioIn }>();
const tell = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);
let synthesizer: Promise<SpeechSynthesizer> | undefined;

function add(id: string, voice: boolean): void {
  const dir = join(dataDir, id);
  mkdirSync(dir, { recursive: true });
  const ports = nodePorts(dir, log);
  let mic: (() => WavAudioIn) | undefined;
  if (voice) {
    const audioIn = wavAudioIn({ realtime: true });
    ports.audio = { audioIn, audioOut: wavAudioOut({ realtime: true }), opus: nodeOpus };
    mic = () => audioIn.last!;
  }
  const device = new Device(ports, {
    awsAccountId: DEMO_AWS_ACCOUNT, iotClientId: id, iotEndpoint: '127.0.0.1', mqttPort, mqttTls: tls,
    lwa: { baseUrl: cloud, tls, clientId: DEMO_LWA_CLIENT.clientId, productId: DEMO_LWA_CLIENT.productIds[0], deviceSerialNumber: `SN-${id}` },
    registration: { baseUrl: cloud, tls },
  }, {
    onCode: (pair) => tell({ code: pair.userCode }),
    onStateChange: (state) => { if (state === 'ready') tell({ ready: id }); },
    onStopped: (reason) => tell({ stopped: id, reason }),
  });
  devices.set(id, { device, mic });
  device.start();
}

async function say(id: string, text: string, as: string): Promise<void> {
  const d = devices.get(id);
  if (!d?.mic) throw new Error(`${id} has no microphone`);
  synthesizer ??= SpeechSynthesizer.create();
  const speech = (await synthesizer).synthesize(text, USER_VOICES[as]);
  d.device.microphone!.tap();
  d.mic().say(concat(silence(4000), speech, silence(12000)));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { add?: string[]; voice?: boolean; say?: string; text?: string; as?: string };
  if (command.add) for (const id of command.add) add(id, command.voice === true);
  if (command.say) void say(command.say, command.text!, command.as ?? 'us-male');
}).on('close', () => {
  for (const { device } of devices.values()) device.stop();
  process.exit(0);
});
