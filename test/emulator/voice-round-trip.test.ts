// Spoken conversations end to end over real sockets, in three synthetic voices at once: the whole emulated
// cloud with voice (emulator/ais/voice-session.ts) and one Node-host Device per voice with audio ports. Each
// device holds the same conversation:
//   1. "Alexa, what time is it?" opened by the wake word. The wake-word engine is issue 7's; here the test
//      stands in for it at that boundary (the front end's hook), reporting the span where it put "Alexa".
//   2. "ask me a question": the emulator's question reopens the microphone (OpenMicrophone), "blue" answers it.
//   3. "tell me a joke", interrupted while it plays by a tap and "what's your name" (barge-in).
//   4. (one voice) an OVERRUN that reaches the emulator after its answer's stream ended: the next answer resumes
//      from the named sequence number.
// Checked per turn: the transcript and the answer; the uplink Opus stream of turn 1, written as Ogg Opus and
// decoded by opusdec, is understood by the recogniser; the played answer correlates with the synthesised one;
// markers, offsets and buffer states appear in the protocol trace in order. One device declares a speaker
// buffer of 12 frames: the emulator paces to what it declared and never overruns it (before the pacing, its first
// burst of 15 frames did). The OVERRUN resend is exercised by the late OVERRUNs of step 4 and speaker-resend.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut, type WavAudioIn, type WavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { SpanWakeWord } from '../../hosts/node/span-wake-word.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { parseBinaryBody } from '../../src/ais/binary.js';
import { Device, type DeviceConfig } from '../../src/app/device.js';
import { deviceConfigFor, startCloud, type Cloud } from '../../emulator/cloud.js';
import { AssistantRecognizer } from '../../emulator/voice/asr.js';
import { oggOpusFile } from '../../emulator/voice/ogg.js';
import { bestAlignment, concat, parseWav, resample, silence, trimSilence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { inOrder, protocolTrace } from '../support/trace.js';
import { requireOpusdec, requirePocketsphinx } from './voice/tools.js';

const VOICES = ['us-male', 'us-female', 'gb-male'] as const;
type Voice = (typeof VOICES)[number];
/** The assistant's clock: a fixed instant, so the right answer is known. */
const NOW = new Date('2026-11-23T14:05:00Z');
/** A buffer of 12 Opus frames, declared: the emulator holds it between its thresholds. */
const SMALL_BUFFER = { bufferBytes: 1920, overrunWarningBytes: 1600, underrunWarningBytes: 320 };

/** What the service saw of one device: events and microphone entries, with arrival times. */
class Heard {
  readonly events: { name: string; payload: Record<string, unknown>; atMs: number }[] = [];
  readonly mic: { offset: number; frames: number; audio: Uint8Array }[] = [];
  readonly transcripts: TranscriptEvent[] = [];
  readonly answers: AnswerEvent[] = [];
  named(name: string) {
    return this.events.filter((e) => e.name === name);
  }
  /** Opus packets of the stream in [from, to), split by each entry's frame count (CBR). */
  opusPackets(from: number, to: number): Uint8Array[] {
    const packets: Uint8Array[] = [];
    let expected = from;
    for (const m of this.mic.filter((e) => e.offset >= from && e.offset < to)) {
      assert.equal(m.offset, expected, 'uplink entries contiguous');
      const size = m.audio.length / m.frames;
      for (let i = 0; i < m.frames; i++) packets.push(m.audio.subarray(i * size, (i + 1) * size));
      expected += m.audio.length;
    }
    return packets;
  }
}

interface Conversation {
  voice: Voice;
  device: Device;
  heard: Heard;
  lines: string[];
  /** When each line was logged. */
  times: number[];
  audioIn: WavAudioIn;
  audioOut: WavAudioOut;
  wakeWord: SpanWakeWord;
  say(text: string): { at: number; samples: Int16Array };
}

function config(cloud: Cloud, clientId: string, voice: Voice): DeviceConfig {
  return {
    ...deviceConfigFor(cloud, clientId), trace: true, connection: { reconnect: { minDelayMs: 20, maxDelayMs: 200 } },
    ...(voice === 'us-female' ? { speakerBuffer: SMALL_BUFFER } : {}),
  };
}

/** How well the device played `answer`: correlation of its decode with the synthesis, after alignment. */
function playedCorrelation(out: WavAudioOut, fromFrame: number, answer: AnswerEvent): number {
  const played = out.samples().subarray(fromFrame * 320);
  const reference = answer.pcm.subarray(0, Math.min(answer.pcm.length, 16000 * 2));
  const start = played.findIndex((s) => Math.abs(s) > 300);
  assert.ok(start >= 0, 'the answer was audible');
  return bestAlignment(reference, played.subarray(Math.max(0, start - 1500)), 2000).correlation;
}

async function wakeWordTurn(c: Conversation, synthesizer: SpeechSynthesizer, recognizer: AssistantRecognizer, t: { diagnostic(m: string): void }) {
  // "Alexa," a short pause, "what time is it": the wake word's span in capture samples is known.
  const alexa = synthesizer.synthesize('alexa', USER_VOICES[c.voice]);
  const command = synthesizer.synthesize('what time is it', USER_VOICES[c.voice]);
  const lead = 8000;
  const at = c.audioIn.say(concat(silence(lead), alexa, silence(1600), command, silence(8000)));
  const begin = at + lead;
  const end = begin + alexa.length;
  // The stand-in engine, on the capture path, reports the span 200 ms after the word ends.
  const playedBefore = c.audioOut.played.length;
  c.wakeWord.expect(begin, end);
  await until('the answer', () => c.heard.answers.length === 1, 30_000);
  assert.equal(c.heard.transcripts[0].text, 'alexa what time is it');
  assert.equal(c.heard.answers[0].intent, 'time');
  assert.equal(c.heard.answers[0].text, 'It is 2:05 PM.');
  await until('the answer played', () => c.heard.named('SpeakerClosed').length === 1 && c.audioOut.played.length - playedBefore >= c.heard.answers[0].opusFrames.length, 30_000);

  // The trace: the wake-word opening with byte offsets 500 ms after the stream start, then the turn in order.
  const trace = protocolTrace(c.lines);
  const [opened, , closed, openSpeaker, speakerOpened, , speakerClosed] = inOrder(trace, [
    '→MicrophoneOpened', '←CloseMicrophone', '→MicrophoneClosed', '←OpenSpeaker', '→SpeakerOpened', '→SpeakerMarkerEncountered', '→SpeakerClosed',
  ]);
  // CloseSpeaker comes once the last frame is sent, before or after playback reaches the marker.
  const [, closeSpeaker] = inOrder(trace, ['←OpenSpeaker', '←CloseSpeaker', '→SpeakerClosed']);
  const opening = opened.payload as { offset: number; initiator: { type: string; payload: { wakeWordIndices: { beginOffset: number; endOffset: number } } } };
  assert.equal(opening.initiator.type, 'WAKEWORD');
  const { beginOffset, endOffset } = opening.initiator.payload.wakeWordIndices;
  const bytesPerSample = (endOffset - beginOffset) / alexa.length;
  assert.ok(Math.abs(beginOffset - opening.offset - 8000 * bytesPerSample) <= 320 * bytesPerSample, `wake word ${beginOffset}..${endOffset}, 500 ms into the stream at ${opening.offset}`);
  assert.equal(speakerOpened.payload.offset, openSpeaker.payload.offset, 'playback began where the service opened it');
  assert.equal(speakerClosed.payload.offset, closeSpeaker.payload.offset, 'closed where the service asked');

  const correlation = playedCorrelation(c.audioOut, playedBefore, c.heard.answers[0]);
  assert.ok(correlation > 0.8, `played answer correlates ${correlation.toFixed(3)} with the synthesised one`);

  // The uplink as a person would check it: Ogg Opus from the entries the service received, through opusdec.
  const micClosed = closed.payload.offset as number;
  const packets = c.heard.opusPackets(opening.offset, micClosed);
  assert.ok(packets.length > 50 && packets.every((p) => p.length === packets[0].length), `${packets.length} CBR Opus packets`);
  const dir = mkdtempSync(join(tmpdir(), `ais-uplink-${c.voice}-`));
  try {
    writeFileSync(join(dir, 'uplink.opus'), oggOpusFile(packets, { preSkip: 0 }));
    execFileSync('opusdec', ['--quiet', '--rate', '16000', join(dir, 'uplink.opus'), join(dir, 'uplink.wav')]);
    const wav = parseWav(readFileSync(join(dir, 'uplink.wav')));
    const samples = wav.sampleRate === 16000 ? wav.samples : resample(wav.samples, wav.sampleRate, 16000);
    // Cut to the speech, as the virtual device's VAD cuts what it recognises (the decoder fails on long digital silence).
    const heard = await recognizer.recognize(trimSilence(samples));
    assert.equal(heard.text, 'alexa what time is it', 'the uplink, decoded by opusdec, says what the user said');
  } finally {
    if (process.env.KEEP_UPLINK) console.error(`uplink kept in ${dir}`); else rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`${c.voice}: wake-word turn answered, played correlation ${correlation.toFixed(3)}, uplink ${packets.length} packets`);
}

async function multiTurn(c: Conversation) {
  const opened = () => c.heard.named('MicrophoneOpened').length;
  c.device.microphone!.tap();
  c.say('ask me a question');
  await until('the question', () => c.heard.answers.length === 2, 30_000);
  assert.equal(c.heard.transcripts[1].text, 'ask me a question');
  assert.equal(c.heard.answers[1].intent, 'quiz');
  assert.ok(c.heard.answers[1].expectSpeech, 'the question expects speech');
  // Once the question has played, the emulator opens the microphone itself: no tap.
  await until('the microphone reopened by OpenMicrophone', () => opened() === 3, 30_000);
  const trace = protocolTrace(c.lines);
  inOrder(trace, ['→SpeakerClosed', '←OpenMicrophone', '→MicrophoneOpened'], trace.map((m) => m.name).lastIndexOf('OpenSpeaker'));
  c.say('blue');
  await until('the colour answer', () => c.heard.answers.length === 3, 30_000);
  assert.equal(c.heard.answers[2].intent, 'colour', `heard ${JSON.stringify(c.heard.transcripts[2]?.text)}`);
  assert.equal(c.heard.answers[2].text, 'Blue. Good choice! I will remember that.');
  await until('the colour answer played', () => c.heard.named('SpeakerClosed').length === 3, 30_000);
}

async function bargeIn(c: Conversation) {
  c.device.microphone!.tap();
  c.say('tell me a joke');
  await until('the joke', () => c.heard.answers.length === 4, 30_000);
  assert.equal(c.heard.answers[3].intent, 'joke');
  const jokeFrames = c.heard.answers[3].opusFrames.length;
  await until('the joke playing', () => c.heard.named('SpeakerOpened').length === 4, 15_000);
  const playingFrom = c.audioOut.played.length;
  await until('a second of the joke played', () => c.audioOut.played.length - playingFrom >= 50, 15_000);
  // The user interrupts: the device closes its speaker, waits 50 ms, then opens the microphone (gotcha 6).
  const closedBefore = c.heard.named('SpeakerClosed').length;
  c.device.microphone!.tap();
  c.say("what's your name");
  await until('SpeakerClosed then MicrophoneOpened', () => c.heard.named('MicrophoneOpened').length === 5, 10_000);
  const speakerClosed = c.heard.named('SpeakerClosed')[closedBefore];
  const micOpened = c.heard.named('MicrophoneOpened')[4];
  assert.ok(speakerClosed && speakerClosed.atMs <= micOpened.atMs, 'the service hears SpeakerClosed first');
  assert.equal((micOpened.payload.initiator as { type: string } | undefined)?.type, 'TAP');
  // The 50 ms is the device's: measured when its components decide (the log lines of the speaker closing and the
  // microphone opening). Publish times can bunch up (the event topic's spacing may carry both in one message) and
  // arrival times in this busy process more so.
  const decided = (pattern: RegExp) => c.lines.map((l, i) => (pattern.test(l) ? c.times[i] : -1)).filter((t) => t >= 0);
  const gap = decided(/\[microphone\] microphone open at/).at(-1)! - decided(/\[speaker\] speaker: closed at/).at(-1)!;
  assert.ok(gap >= 49, `the microphone opened ${gap.toFixed(0)} ms after the speaker closed`);
  await until('the name answer', () => c.heard.answers.length === 5, 30_000);
  assert.equal(c.heard.answers[4].intent, 'name', `heard ${JSON.stringify(c.heard.transcripts[4]?.text)}`);
  const jokePlayed = c.audioOut.played.length - playingFrom;
  await until('the name answer played', () => c.heard.named('SpeakerClosed').length === closedBefore + 2, 30_000);
  const frames = c.audioOut.played.length - playingFrom;
  assert.ok(frames < jokeFrames + c.heard.answers[4].opusFrames.length,
    `the joke was cut short: ${frames} frames played for a ${jokeFrames}-frame joke and a ${c.heard.answers[4].opusFrames.length}-frame answer (${jokePlayed} by the name answer)`);
}

/**
 * An OVERRUN that reaches the emulator after its answer's stream has ended (a barge-in cut it short): the device
 * discarded that message and waits for it, so the next answer must come under that number on (gotcha 5), or the
 * device holds and drops it until its gap timeout ends the connection.
 */
async function lateOverrun(c: Conversation, cloud: Cloud) {
  const clientId = `talker-${c.voice}`;
  const connections = cloud.service.deviceState(clientId)!.connections;
  const last = cloud.service.peekSpeakerSequence(clientId) - 1;
  c.device.connection!.rewindSpeaker(last);
  c.device.connection!.sendEvent('BufferStateChanged', { message: { topic: 'speaker', sequenceNumber: last }, state: 'OVERRUN' });
  const closed = c.heard.named('SpeakerClosed').length;
  const answers = c.heard.answers.length;
  c.device.microphone!.tap();
  c.say('what time is it');
  await until('the next answer played', () => c.heard.answers.length === answers + 1 && c.heard.named('SpeakerClosed').length === closed + 1, 30_000);
  assert.equal(c.heard.answers[answers].intent, 'time');
  assert.equal(cloud.service.deviceState(clientId)!.connections, connections, 'no reconnect');
  assert.ok(c.lines.some((l) => /speaker #\d+ binary/.test(l)));

  // The same OVERRUN reaching the emulator only once the next answer streams (a loaded network): the device drops
  // that answer while it waits, so the emulator sends it again from its start under the number the OVERRUN named.
  const earlier = cloud.service.peekSpeakerSequence(clientId) - 1;
  c.device.connection!.rewindSpeaker(earlier);
  c.device.microphone!.tap();
  c.say('what time is it');
  await until('the answer streaming', () => cloud.service.peekSpeakerSequence(clientId) > earlier + 2, 30_000);
  c.device.connection!.sendEvent('BufferStateChanged', { message: { topic: 'speaker', sequenceNumber: earlier }, state: 'OVERRUN' });
  await until('that answer played', () => c.heard.answers.length === answers + 2 && c.heard.named('SpeakerClosed').length === closed + 2, 30_000);
  assert.equal(c.heard.answers[answers + 1].intent, 'time');
  assert.equal(cloud.service.deviceState(clientId)!.connections, connections, 'no reconnect');
}

test('spoken conversations in three voices at once over real sockets: a wake word, a follow-up question, a barge-in; transcripts, answers, the uplink through opusdec, played audio and the trace', { concurrency: true }, async (t) => {
  if (!requirePocketsphinx(t) || !requireOpusdec(t)) return;
  const synthesizer = await SpeechSynthesizer.create();
  const recognizer = new AssistantRecognizer();
  const heard = new Map<string, Heard>(VOICES.map((v) => [`talker-${v}`, new Heard()]));
  const cloudLog = captureLogger('cloud', 'info');
  const cloud = await startCloud({
    pollIntervalMs: 100, log: cloudLog.log,
    voice: {
      now: () => NOW, timeZone: 'UTC',
      onTranscript: (id, e) => heard.get(id)?.transcripts.push(e),
      onAnswer: (id, a) => heard.get(id)?.answers.push(a),
    },
    service: {
      onEvent: (id, event) => heard.get(id)?.events.push({ name: event.header.name, payload: event.payload ?? {}, atMs: performance.now() }),
      onMicrophone: (id, _seq, body) => {
        for (const entry of parseBinaryBody(new Uint8Array(body))) if (entry.type === 'audio') heard.get(id)?.mic.push({ offset: entry.offsetBytes, frames: entry.frames, audio: entry.audio });
      },
    },
  });
  const dataDirs: string[] = [];
  const devices: Device[] = [];
  try {
    await Promise.all(VOICES.map((voice, index) => t.test(voice, async (st) => {
      // Staggered, so that one device's answer being synthesised (it blocks this process) seldom falls on another's
      // answer streaming. Under load the 12-frame speaker buffer still overran in 2 of 5 runs, staggered or not: the
      // downlink's own late-timer case, open (the uplink is heard whole however late the timers run).
      await new Promise((resolve) => setTimeout(resolve, index * 1500));
      const clientId = `talker-${voice}`;
      const dataDir = mkdtempSync(join(tmpdir(), 'ais-voice-'));
      dataDirs.push(dataDir);
      const audioIn = wavAudioIn({ realtime: true });
      const audioOut = wavAudioOut({ realtime: true });
      const wakeWord = new SpanWakeWord();
      const { log, lines, times } = captureLogger(clientId);
      const device = new Device({ ...nodePorts(dataDir, log), audio: { audioIn, audioOut, opus: nodeOpus, wakeWord } }, config(cloud, clientId, voice), {
        onCode: (pair) => cloud.lwa.approve(pair.userCode),
      });
      devices.push(device);
      device.start();
      await until('ready', () => device.state === 'ready' && cloud.service.deviceState(clientId)?.synchronizedState !== undefined, 20_000);
      const c: Conversation = {
        voice, device, heard: heard.get(clientId)!, lines, times, audioIn: audioIn.last!, audioOut: audioOut.last!, wakeWord,
        say: (text) => {
          const samples = concat(silence(4000), synthesizer.synthesize(text, USER_VOICES[voice]), silence(8000));
          return { at: audioIn.last!.say(samples), samples };
        },
      };
      try {
        await wakeWordTurn(c, synthesizer, recognizer, st);
        await multiTurn(c);
        await bargeIn(c);
      } catch (error) {
        // What the device and the emulator said about the speaker stream, to tell a lost resend from a slow machine.
        const tail = (from: string[]) => from.filter((l) => l.includes(clientId) || from === lines).filter((l) => /speaker|Speaker|Buffer|OVERRUN/.test(l)).slice(-30);
        st.diagnostic(`${voice} failed; device:\n${tail(lines).join('\n')}\nemulator:\n${tail(cloudLog.lines).join('\n')}`);
        throw error;
      }
      if (voice === 'us-female') {
        // Paced to the 12 frames it declared: never a message that does not fit.
        assert.ok(!lines.some((l) => /"state":"OVERRUN"/.test(l)), 'a declared 12-frame buffer never overruns');
      } else {
        assert.ok(!lines.some((l) => /"state":"OVERRUN"/.test(l)), 'a 4 s buffer never overruns');
      }
      if (voice === 'gb-male') await lateOverrun(c, cloud);
    })));
    // Every turn's audio reached the virtual device whole, though it races MicrophoneOpened on another topic.
    assert.deepEqual(cloudLog.lines.filter((l) => /microphone .*gap/.test(l)), []);
  } finally {
    for (const d of devices) d.stop();
    recognizer.close();
    await cloud.close();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
});
