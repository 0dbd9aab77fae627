// Voice latency, split: from the end of the user's speech to the first answer audio played, on the Node host
// against the emulator in one process, over real sockets (localhost). Each turn is a tap and a synthesised
// utterance; the bench times, for the last microphone frame of speech and the first speaker message:
//   device up     captured by the device → its microphone PUBLISH written to the socket (the 50 ms publish tick)
//   network up    written → received by the emulator's AIS service (broker hop, decryption)
//   emulator      received → first speaker message sent, split into the VAD's hangover (end-of-speech
//                 decision), recognition, synthesis and Opus, and the rest
//   network down  sent → read from the device's socket
//   device down   read → first answer frame played (jitter buffer start, audio-out queue)
// Writes docs/figures/voice-latency.md and docs/figures/voice-latency.svg. Prints figures; never passes or fails.
// Run: npm run build && node build/bench/voice-latency.js [--turns N]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../hosts/node/audio.js';
import { nodeOpus } from '../hosts/node/opus.js';
import { nodePorts } from '../hosts/node/ports.js';
import { loggerFromEnv } from '../hosts/node/log.js';
import { parseBinaryBody } from '../src/ais/binary.js';
import { Device } from '../src/app/device.js';
import { MqttParser } from '../src/mqtt/parser.js';
import { Logger, silentSink } from '../src/ports/log.js';
import type { SocketFactory } from '../src/ports/socket.js';
import { deviceConfigFor, startCloud } from '../emulator/cloud.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../emulator/voice/tts.js';
import { fromRoot } from '../test/support/paths.js';
import { commandLine } from '../hosts/node/command-line.js';

const { values } = commandLine({
  command: 'node build/bench/voice-latency.js',
  summary: 'Voice turn latency from the end of speech to the first answer audio, over real sockets.',
  options: { turns: { type: 'string', value: 'N', help: 'spoken turns measured', default: '9' } },
});
const TURNS = Number(values.turns);
const PHRASES = ['what time is it', "what's your name", 'what day is it'];
const VOICES = ['us-male', 'us-female', 'gb-male'] as const;
const FRAME_BYTES = 160;   // the device's Opus uplink at 64 kbps: 20 ms per 160 bytes
const SAMPLES = 320;

/** Times of the device's socket traffic, by topic leaf: PUBLISH written (out) and read (in), in order. */
class SocketTimes {
  readonly out = new Map<string, number[]>();
  readonly in = new Map<string, number[]>();
  private add(map: Map<string, number[]>, topic: string, at: number) {
    const leaf = topic.slice(topic.lastIndexOf('/') + 1);
    if (!map.has(leaf)) map.set(leaf, []);
    map.get(leaf)!.push(at);
  }
  /** The socket port with the times taken at its boundary: what the device writes and what it reads. */
  wrap(factory: SocketFactory): SocketFactory {
    return (options) => {
      const parser = new MqttParser({ maxPacketBytes: 1 << 20, onPacket: (p) => { if (p.cmd === 'publish') this.add(this.in, p.topic, performance.now()); }, onError: () => undefined });
      const socket = factory(options);
      return {
        read: (buffer) => {
          const n = socket.read(buffer);
          parser.push(buffer, n);
          return n;
        },
        write: (data, length = data.length) => {
          // One MQTT packet per write: a PUBLISH's topic follows the remaining-length varint.
          if ((data[0] & 0xf0) === 0x30) {
            let at = 1;
            while (data[at] & 0x80) at++;
            at++;
            const topicLength = (data[at] << 8) | data[at + 1];
            this.add(this.out, new TextDecoder().decode(data.subarray(at + 2, at + 2 + topicLength)), performance.now());
          }
          return socket.write(data, length);
        },
        close: () => socket.close(),
      };
    };
  }
}

interface Turn {
  phrase: string; voice: string;
  deviceUp: number; networkUp: number; vad: number; asr: number; tts: number; emulatorRest: number; networkDown: number; deviceDown: number; total: number;
}

const log = process.env.LOG_LEVEL ? loggerFromEnv('bench') : new Logger(silentSink, 'bench');
const times = new SocketTimes();
const arrivals: { offset: number; length: number; atMs: number }[] = [];
const endOfSpeech: number[] = [];
const speakerSent: number[] = [];
const transcriptMs: number[] = [];
const answerMs: number[] = [];
const closed: number[] = [];
const cloud = await startCloud({
  pollIntervalMs: 100, log,
  voice: {
    onSpeakerStart: (_id, s) => { endOfSpeech.push(s.endOfSpeechAtMs); speakerSent.push(s.atMs); },
    onTranscript: (_id, t) => transcriptMs.push(t.elapsedMs),
    onAnswer: (_id, a) => answerMs.push(a.elapsedMs),
  },
  service: {
    onMicrophone: (_id, _seq, body) => {
      const atMs = performance.now();
      for (const e of parseBinaryBody(new Uint8Array(body))) if (e.type === 'audio') arrivals.push({ offset: e.offsetBytes, length: e.audio.length, atMs });
    },
    onEvent: (_id, e) => { if (e.header.name === 'SpeakerClosed') closed.push(performance.now()); },
  },
});
if (!cloud.voice) {
  console.log('voice-latency: pocketsphinx not found; apt-get install pocketsphinx pocketsphinx-en-us');
  process.exit(0);
}
const dataDir = mkdtempSync(join(tmpdir(), 'ais-latency-'));
const audioIn = wavAudioIn({ realtime: true });
const audioOut = wavAudioOut({ realtime: true });
const ports = nodePorts(dataDir, log);
const device = new Device({ ...ports, socket: times.wrap(ports.socket), audio: { audioIn, audioOut, opus: nodeOpus } }, deviceConfigFor(cloud, 'latency-1'), {
  onCode: (pair) => cloud.lwa.approve(pair.userCode),
});
const wait = async (what: string, done: () => boolean, timeoutMs = 30_000) => {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const turns: Turn[] = [];
try {
  device.start();
  await wait('ready', () => device.state === 'ready' && cloud.service.deviceState('latency-1')?.synchronizedState !== undefined);
  const synthesizer = await SpeechSynthesizer.create();
  const mic = device.microphone!;
  // Turn 0 is a warm-up, not reported: the emulator shares this process and starts its speech engines then.
  for (let i = -1; i < TURNS; i++) {
    const phrase = PHRASES[(i + PHRASES.length) % PHRASES.length];
    const voice = VOICES[Math.floor(Math.max(0, i) / PHRASES.length) % VOICES.length];
    const speech = synthesizer.synthesize(phrase, USER_VOICES[voice]);
    const speakersBefore = speakerSent.length;
    const playedBefore = audioOut.last!.played.length;
    const micOutBefore = times.out.get('microphone')?.length ?? 0;
    const arrivalsBefore = arrivals.length;
    const speakerInBefore = times.in.get('speaker')?.length ?? 0;
    const closedBefore = closed.length;
    mic.tap();
    const openFrame = mic.capturedSamples / SAMPLES;   // tap opens at the next frame captured
    const at = audioIn.last!.say(concat(silence(4000), speech, silence(16000)));
    const endSample = at + 4000 + speech.length;
    await wait('the end of speech captured', () => mic.capturedSamples >= endSample);
    const captured = performance.now();
    await wait('the answer', () => speakerSent.length > speakersBefore);
    await wait('the answer played', () => closed.length > closedBefore);
    // The uplink entry that carries the last frame of speech, by offset (20 ms = 160 bytes from the opening).
    const opened = arrivals[arrivalsBefore].offset;
    const endOffset = opened + (Math.ceil(endSample / SAMPLES) - 1 - Math.round(openFrame)) * FRAME_BYTES;
    const index = arrivals.slice(arrivalsBefore).findIndex((a) => a.offset <= endOffset && endOffset < a.offset + a.length);
    const published = times.out.get('microphone')![micOutBefore + index];
    const arrived = arrivals[arrivalsBefore + index].atMs;
    const sent = speakerSent[speakersBefore];
    const read = times.in.get('speaker')![speakerInBefore];
    // The first frame scheduled after the read: the previous answer's last frames may still have been queued.
    const played = audioOut.last!.playedAtMs.slice(playedBefore).find((t) => t >= read)!;
    const vad = endOfSpeech[speakersBefore] - arrived;
    const asr = transcriptMs[speakersBefore];
    const ready = answerMs[speakersBefore];
    if (i < 0) continue;
    turns.push({
      phrase, voice, deviceUp: published - captured, networkUp: arrived - published, vad, asr, tts: ready - asr,
      emulatorRest: sent - arrived - vad - ready, networkDown: read - sent, deviceDown: played - read, total: played - captured,
    });
    const t = turns.at(-1)!;
    console.log(`turn ${i + 1}/${TURNS} ${voice} "${phrase}": ${t.total.toFixed(0)} ms (device up ${t.deviceUp.toFixed(0)}, network up ${t.networkUp.toFixed(1)}, VAD ${t.vad.toFixed(0)}, ASR ${t.asr.toFixed(0)}, TTS+Opus ${t.tts.toFixed(0)}, emulator rest ${t.emulatorRest.toFixed(0)}, network down ${t.networkDown.toFixed(1)}, device down ${t.deviceDown.toFixed(0)})`);
  }
} finally {
  device.stop();
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}

const STAGES = [
  ['deviceUp', 'device up: captured → published', '#4e79a7'], ['networkUp', 'network up', '#a0cbe8'],
  ['vad', 'emulator: VAD hangover', '#f28e2b'], ['asr', 'emulator: recognition', '#ffbe7d'], ['tts', 'emulator: synthesis + Opus', '#59a14f'],
  ['emulatorRest', 'emulator: rest', '#8cd17d'], ['networkDown', 'network down', '#b6992d'], ['deviceDown', 'device down: read → played', '#e15759'],
] as const;
const cell = (v: number) => (Math.abs(v) < 10 ? v.toFixed(1) : v.toFixed(0));
const rows = turns.map((t) => `| ${t.voice} "${t.phrase}" | ${STAGES.map(([k]) => cell(t[k])).join(' | ')} | **${t.total.toFixed(0)}** |`);
const medians = STAGES.map(([k]) => median(turns.map((t) => t[k])));
const md = `# Voice latency, split

Measured by bench/voice-latency.ts on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, this machine (2 cores), ${turns.length} turns: the emulator and one
Node-host device in one process over real sockets on localhost, tap-to-talk, synthesised speech. Times in ms
from the last microphone frame of speech captured by the device to the first frame of the answer played.
Device times are taken at the socket port's boundary (an MQTT PUBLISH written, read); the VAD, recognition
and synthesis times are the emulator's own. A warm-up turn before these is not reported (the emulator shares the
process and loads its speech engines during it).

| turn | ${STAGES.map(([, label]) => label).join(' | ')} | total |
|---|${STAGES.map(() => '---:').join('|')}|---:|
${rows.join('\n')}
| **median** | ${medians.map(cell).join(' | ')} | **${median(turns.map((t) => t.total)).toFixed(0)}** |

Device-side added latency: **${cell(medians[0])} ms up** (a frame waits for the microphone's 50 ms publish tick,
§7 gotcha 7, then Opus and the envelope) and **${cell(medians[7])} ms down** (the speaker starts after 3 frames
are buffered; the emulator's first burst brings 15, so it starts as soon as one message is decoded; a real codec's
DMA ring adds its own two or three frames, which the Node host's WAV speaker does not model). The end-of-speech decision (the VAD's 600 ms hangover) is most
of the wait, by design: a shorter hangover cuts users off between words. Recognition runs two pocketsphinx
decodes; synthesis is eSpeak NG in WASM plus Opus.

![latency by stage](voice-latency.svg)
`;
mkdirSync(fromRoot('docs/figures'), { recursive: true });
writeFileSync(fromRoot('docs/figures/voice-latency.md'), md);
writeFileSync(fromRoot('docs/figures/voice-latency.svg'), svg(turns));
console.log(`median total ${median(turns.map((t) => t.total)).toFixed(0)} ms; wrote docs/figures/voice-latency.md and .svg`);

/** One stacked horizontal bar per turn, stages in order, with a legend. */
function svg(all: Turn[]): string {
  const width = 900;
  const left = 230;
  const barHeight = 18;
  const top = 30;
  const maxTotal = Math.max(...all.map((t) => STAGES.reduce((s, [k]) => s + Math.max(0, t[k]), 0)));
  const scale = (width - left - 20) / maxTotal;
  const parts: string[] = [];
  all.forEach((t, i) => {
    const y = top + i * (barHeight + 6);
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end" font-size="11">${t.voice} "${t.phrase}"</text>`);
    let x = left;
    for (const [k, label, colour] of STAGES) {
      const w = Math.max(0, t[k]) * scale;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour}"><title>${label}: ${cell(t[k])} ms</title></rect>`);
      x += w;
    }
    parts.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 13}" font-size="11">${t.total.toFixed(0)} ms</text>`);
  });
  const legendY = top + all.length * (barHeight + 6) + 20;
  STAGES.forEach(([, label, colour], i) => {
    const x = 20 + (i % 4) * 220;
    const y = legendY + Math.floor(i / 4) * 18;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colour}"/><text x="${x + 16}" y="${y + 10}" font-size="11">${label}</text>`);
  });
  const height = legendY + 50;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="20" y="18" font-size="13">End of speech → first answer audio played, by stage (ms; ${all.length} turns)</text>
${parts.join('\n')}
</svg>
`;
}
