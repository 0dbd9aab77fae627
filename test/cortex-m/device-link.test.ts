// The device application on the emulated Cortex-M7 (QEMU mps2-an500), its network and audio through the
// co-processor link: the image's UART1 to hosts/cortex-m/bridge.ts, which opens the TCP and TLS connections
// (TLS offload) and is the board's microphone and speaker. Against the emulator over real sockets:
//   1. the image links, registers over HTTPS (TLS in the bridge, the CA given by the image as a CERT frame),
//      connects over MQTT and reaches ready with capabilities and SynchronizeState;
//   2. a spoken turn: a button tap and "what time is it" from a WAV file, fed as 20 ms frames over the UART;
//      the transcript and the answer are checked, and the answer the image decoded and played, captured by the
//      bridge, correlates with the synthesised one after alignment;
//   3. a voice timer ("set a timer for ten seconds"), stored and acknowledged; then the bridge cuts the network
//      (Bridge.cutNetwork()) and the image rings the alert with its local tone at the due time, at real time; when it
//      stops, the image flushes the co-processor's speaker (AUDIO_OUT_FLUSH): at most a frame plays after the stop, and
//      the speaker window is whole again;
//   4. the image exits on a board event and the board prints its exit line (heap high-water mark, stack peaks): the
//      session fit the image's RAM_SIZE, DEVICE_IMAGE_RAM_SIZE (no sbrk refused; XS's "memory full" would have ended the
//      image with exit status 2 before, which fails the waits above with its abort line).
// M7_RAM_SIZE=<bytes> links the image with another RAM_SIZE, to measure the smallest that holds a session.
// Needs the firmware toolchain (gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm) and pocketsphinx
// for the turn: skipped locally without them, a failure under CI=true.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeWav, readWav } from '../../hosts/node/wav.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import { bestAlignment, concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { isAlertTone } from '../support/audio.js';
import { bootM7Board, type M7Board } from '../support/m7-board.js';
import { until } from '../support/wait.js';
import { requirePocketsphinx } from '../emulator/voice/tools.js';

const root = join(import.meta.dirname, '..', '..', '..');
const launch = await import(pathToFileURL(join(root, 'hosts/cortex-m/device-launch.mjs')).href);
const { firmwareToolchain } = await import(pathToFileURL(join(root, 'hosts/cortex-m/build.mjs')).href);
const missing: string | undefined = firmwareToolchain().missing;
const NOW = new Date('2026-11-23T14:05:00Z');
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });
const ramSize = process.env.M7_RAM_SIZE ? Number(process.env.M7_RAM_SIZE) : launch.DEVICE_IMAGE_RAM_SIZE;
before(async () => { if (!missing) await launch.prepareImageDevice({ ramSize }); });

function skipWithoutToolchain(t: { skip(message: string): void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(missing);
  t.skip(missing);
  return true;
}

/** Once the image has exited: fails with its own reason (an XS abort such as memory full, an uncaught exception, a fault
 * report) and its exit line. */
function assertRunning(board: M7Board, dump: () => string): void {
  if (!board.exited()) return;
  const why = board.lines.filter((l) => /XS abort|uncaught|# board: (exit|.*fault)/.test(l));
  assert.fail(`the image exited (RAM_SIZE ${ramSize}): ${why.join('; ') || 'no exit line'}\n${dump()}`);
}

/** The board's exit line as numbers: `# board: exit code=0 ram=… heap=… heap_peak=… heap_refused=…`. */
function exitFigures(line: string): Record<string, number> {
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key, Number(value)]));
}

test('the M7 image registers over HTTPS and connects through the UART co-processor link, answers a spoken turn from a WAV, rings a voice timer with the network cut, and exits with its memory figures', async (t) => {
  if (skipWithoutToolchain(t)) return;
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const voiceMissing = requirePocketsphinxQuietly();
  const cloud = await startCloud({
    pollIntervalMs: 100,
    alerts: { durationMs: 3000 },
    // The first turn's answer at a fixed time; the timer on the service's own clock, the one SetClock gives the image.
    voice: { now: () => (answers.length === 0 ? NOW : new Date()), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
  });
  cleanups.push(() => cloud.close());
  const clientId = 'm7-kitchen';
  // M7_ICOUNT=1: QEMU counts instructions, so the link's stage timers in the image reports read instructions (40 per
  // SysTick count); npm run bench:firmware measures them in its own session (bench/cortex-m-link.ts).
  const board = await bootM7Board(cloud, { ...deviceConfigFor(cloud, clientId), trace: true }, { icount: process.env.M7_ICOUNT === '1' });
  cleanups.push(() => board.close());
  const dump = () => board.lines.slice(-40).join('\n');

  // The image sends SynchronizeState before it announces ready: both.
  await until('the image ready and synchronized', () => (cloud.service.deviceState(clientId)?.synchronizedState !== undefined
    && board.lines.some((l) => l.endsWith('[device] state ready'))) || board.exited(), 120_000)
    .catch((error) => { throw new Error(`${(error as Error).message}\n${dump()}`); });
  assertRunning(board, dump);
  for (const state of ['linking', 'registering', 'connecting', 'ready']) {
    assert.ok(board.lines.some((l) => l.endsWith(`[device] state ${state}`)), `state ${state}\n${dump()}`);
  }
  assert.ok(board.lines.some((l) => /bridge: 127\.0\.0\.1:\d+ open on channel \d+ \(TLS in the co-processor\)/.test(l)), 'HTTPS through the bridge');
  assert.ok(board.lines.some((l) => l.includes(`bridge: 127.0.0.1:${cloud.mqttPort} open on channel `) && l.endsWith('(TLS in the co-processor)')), 'MQTT over TLS through the bridge');
  assert.ok(cloud.service.deviceState(clientId)!.capabilities, 'capabilities published');
  assert.equal(board.bridge.stats.crcErrors, 0, 'no damaged frames');
  // The realm and the modules run in place from the machine prepared in flash: at boot XS holds in RAM only the prelude,
  // the entry and what they changed (795 slots; built in RAM, 15,988).
  const bootLine = board.lines.find((l) => l.startsWith('image-memory boot '));
  assert.ok(bootLine, `the image's boot report\n${dump()}`);
  const bootSlots = (JSON.parse(bootLine.slice('image-memory boot '.length)) as { memory: { slots: { current: number } } }).memory.slots.current;
  assert.ok(bootSlots < 2000, `the machine prepared in flash, not built in RAM: ${bootSlots} slots at boot`);
  t.diagnostic(`ready: link ${JSON.stringify(board.bridge.stats)}; ${bootSlots} XS slots in RAM at boot`);

  if (voiceMissing !== undefined) {
    if (process.env.CI === 'true') throw new Error(voiceMissing);
    t.diagnostic(`spoken turn skipped: ${voiceMissing}`);
    return;
  }
  // The question as a WAV file, as a test bench plays one into a board's microphone.
  const synthesizer = await SpeechSynthesizer.create();
  const dir = mkdtempSync(join(tmpdir(), 'ais-m7-turn-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const wav = join(dir, 'what-time-is-it.wav');
  writeWav(wav, concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(12000)));
  const playedBefore = board.bridge.played.length;
  board.bridge.event('button tap');
  board.bridge.say(readWav(wav));
  await until('the answer', () => answers.length === 1 || board.exited(), 90_000)
    .catch((error) => { throw new Error(`${(error as Error).message}: transcripts ${JSON.stringify(transcripts.map((e) => e.text))}\n${dump()}`); });
  assertRunning(board, dump);
  assert.equal(transcripts[0]?.text, 'what time is it', `answer ${JSON.stringify({ intent: answers[0].intent, text: answers[0].text })}, bridge ${JSON.stringify(board.bridge.stats)}\n${dump()}`);
  assert.equal(answers[0].intent, 'time');
  assert.equal(answers[0].text, 'It is 2:05 PM.');
  await until('the answer played', () => board.bridge.played.length - playedBefore >= answers[0].opusFrames.length || board.exited(), 60_000)
    .catch((error) => { throw new Error(`${(error as Error).message}: played ${board.bridge.played.length - playedBefore} of ${answers[0].opusFrames.length}\n${dump()}`); });
  assertRunning(board, dump);
  const played = board.bridge.samples().subarray(playedBefore * 320);
  const start = played.findIndex((s) => Math.abs(s) > 300);
  assert.ok(start >= 0, 'the answer was audible');
  const reference = answers[0].pcm.subarray(0, Math.min(answers[0].pcm.length, 16000 * 2));
  const { correlation } = bestAlignment(reference, played.subarray(Math.max(0, start - 1500)), 2000);
  if (process.env.KEEP_AUDIO) writeWav(join(process.env.KEEP_AUDIO, 'm7-played.wav'), played);
  assert.ok(correlation > 0.8, `played answer correlates ${correlation.toFixed(3)} with the synthesised one`);
  board.bridge.event('report');
  await until('the image report', () => board.lines.some((l) => l.startsWith('image-report ')), 10_000);
  t.diagnostic(`turn: played correlation ${correlation.toFixed(3)}; bridge ${JSON.stringify(board.bridge.stats)}; ${board.lines.find((l) => l.startsWith('image-report '))}`);

  // A timer by voice, then the network goes before it is due: the image rings it with its local tone.
  const timerWav = join(dir, 'set-a-timer.wav');
  writeWav(timerWav, concat(silence(4000), synthesizer.synthesize('set a timer for ten seconds', USER_VOICES['us-male']), silence(12000)));
  board.bridge.event('button tap');
  board.bridge.say(readWav(timerWav));
  await until('the timer set and acknowledged', () => cloud.alerts.list(clientId)[0]?.confirmed === true || board.exited(), 90_000)
    .catch((error) => { throw new Error(`${(error as Error).message}: transcripts ${JSON.stringify(transcripts.map((e) => e.text))}\n${dump()}`); });
  assertRunning(board, dump);
  assert.equal(answers[1]?.intent, 'setTimer', `heard ${JSON.stringify(transcripts[1]?.text)}`);
  assert.equal(answers[1].text, '10 seconds, starting now.');
  const [alert] = cloud.alerts.list(clientId);
  assert.ok(board.lines.some((l) => l.includes(`[alerts] alert ${alert.token} set: TIMER`)), `the image stored the timer\n${dump()}`);
  // The image's collections from here to the alert's end, for the diagnostics (its image-report lines).
  const collections = () => (JSON.parse(board.lines.filter((l) => l.startsWith('image-report ')).at(-1)!.slice('image-report '.length)) as { memory: { gcCount: number } }).memory.gcCount;
  const reports = () => board.lines.filter((l) => l.startsWith('image-report ')).length;
  const reportsBefore = reports();
  board.bridge.event('report');
  await until('the image report', () => reports() > reportsBefore, 10_000);
  const collectionsBefore = collections();
  const dueMs = performance.now() + (alert.scheduledTime - cloud.alerts.nowSeconds()) * 1000;
  const cutAtLine = board.lines.length;
  const cutAtMs = performance.now();
  const playedBeforeCut = board.bridge.played.length;
  board.bridge.cutNetwork();
  assert.ok(dueMs - cutAtMs > 1000, `the network cut before the timer is due: ${(dueMs - cutAtMs).toFixed(0)} ms before`);
  await until('the image offline', () => board.lines.slice(cutAtLine).some((l) => /\[device\] state (?!ready)/.test(l)) || board.exited(), 15_000)
    .catch((error) => { throw new Error(`${(error as Error).message}\n${dump()}`); });
  const offlineAtMs = performance.now();
  assert.ok(offlineAtMs < dueMs, `the image saw the network loss ${(offlineAtMs - dueMs).toFixed(0)} ms after the due time`);

  const toneTimes = () => {
    const times: number[] = [];
    for (let i = playedBeforeCut; i < board.bridge.played.length; i++) if (isAlertTone(board.bridge.played[i])) times.push(board.bridge.playedAtMs[i]);
    return times;
  };
  await until('the local tone', () => toneTimes().length > 0 || board.exited(), dueMs - performance.now() + 15_000)
    .catch((error) => { throw new Error(`${(error as Error).message}\n${dump()}`); });
  assertRunning(board, dump);
  assert.ok(board.lines.some((l) => l.includes(`[alerts] alert ${alert.token} (TIMER) due`) && l.endsWith('ringing locally')), `rung locally\n${dump()}`);
  const firstTone = toneTimes()[0];
  const { speakerUnderruns: underrunsBefore, micFramesSent: micBefore } = board.bridge.stats;
  // SetClock carries whole seconds (the emulator rounds: ±500 ms), it crosses the link (at most one microphone frame
  // ahead of it, up to 300 ms).
  assert.ok(Math.abs(firstTone - dueMs) < 1500, `the tone starts at the due time: ${(firstTone - dueMs).toFixed(0)} ms off`);
  const stoppedLine = () => board.lines.findIndex((l) => l.includes(`[alerts] alert ${alert.token}: rang its 3000 ms; stopped`));
  await until('the alert over', () => stoppedLine() >= 0 || board.exited(), 15_000)
    .catch((error) => { throw new Error(`${(error as Error).message}\n${dump()}`); });
  await until('the speaker quiet', () => performance.now() - board.bridge.playedAtMs.at(-1)! > 300, 5_000);
  // The alert stopped: the image flushed the co-processor's speaker (AUDIO_OUT_FLUSH), so what it had queued there
  // (up to 10 frames, 200 ms) is not heard after the stop; a frame may play while the flush crosses the link.
  const stoppedAtMs = board.linesAtMs[stoppedLine()];
  const afterStop = board.bridge.playedAtMs.filter((at) => at > stoppedAtMs).length;
  assert.ok(afterStop <= 1, `${afterStop} speaker frames played after the alert stopped; bridge ${JSON.stringify(board.bridge.stats)}`);
  const tones = toneTimes();
  const rang = tones.at(-1)! - firstTone;
  const reportsAfter = reports();
  board.bridge.event('report');
  await until('the image report', () => reports() > reportsAfter, 10_000);
  // The speaker window after the flush: every frame the image sent came back once, played or flushed, so it is whole
  // again, and the co-processor never had more than its 10 frames to hold.
  const link = (JSON.parse(board.lines.filter((l) => l.startsWith('image-report ')).at(-1)!.slice('image-report '.length)) as { link: Record<string, number> }).link;
  assert.ok(board.bridge.stats.speakerFlushes >= 1, `the alert's stop flushed the speaker: ${JSON.stringify(board.bridge.stats)}`);
  assert.equal(link.speakerWindow, 10, `the image's speaker window, idle after the flush: ${JSON.stringify(link)}`);
  assert.equal(link.speakerOverCredits, 0, 'no frame credited twice');
  assert.equal(board.bridge.stats.speakerRefused, 0, 'no AUDIO_OUT beyond the co-processor\'s speaker window');
  // At real time the 3000 ms alert holds three 1.2 s cycles' beeps (four of 100 ms each, 20 frames a cycle), and the
  // last tone frame plays 2780 ms after the first (frame 139 of the pattern); slower, the alert ends with fewer.
  const speaker = `while it rang: speaker underruns ${board.bridge.stats.speakerUnderruns - underrunsBefore}, microphone frames ${board.bridge.stats.micFramesSent - micBefore}; `
    + `the image's collections from the cut to the alert's end ${collections() - collectionsBefore}`;
  assert.equal(tones.length, 60, `tone frames in the 3000 ms alert (three cycles of 20), played over ${rang.toFixed(0)} ms; ${speaker}`);
  assert.ok(Math.abs(rang - 2780) < 400, `the tone at real time: its 60 frames over ${rang.toFixed(0)} ms, 2780 ms due; ${speaker}`);
  t.diagnostic(`timer: due ${(dueMs - cutAtMs).toFixed(0)} ms after the cut, offline after ${(offlineAtMs - cutAtMs).toFixed(0)} ms; `
    + `local tone ${(firstTone - dueMs).toFixed(0)} ms after the due time, ${tones.length} tone frames over ${rang.toFixed(0)} ms; ${speaker}; `
    + `after the stop ${afterStop} frames played, ${board.bridge.stats.speakerFlushedFrames} flushed in ${board.bridge.stats.speakerFlushes} flushes`);

  // The end of the session: the board's exit line (newlib's heap high-water mark, the stack peaks).
  board.bridge.event('exit');
  await until('the image exits', () => board.exited(), 15_000);
  const exitLine = board.lines.find((l) => l.startsWith('# board: exit'));
  assert.ok(exitLine?.includes(' code=0 '), `a clean exit\n${dump()}`);
  const figures = exitFigures(exitLine!);
  assert.equal(figures.ram, ramSize, `the image was linked with RAM_SIZE ${ramSize}: ${exitLine}`);
  assert.equal(figures.heap_refused, 0, `the session needed more heap than RAM_SIZE ${ramSize} leaves: ${exitLine}`);
  t.diagnostic(`exit: ${board.lines.filter((l) => l.startsWith('image-report ')).at(-1)}; ${exitLine}; `
    + `heap headroom ${figures.heap - figures.heap_peak} B of ${figures.heap} (RAM_SIZE ${ramSize})`);
});

/** Why the spoken turn cannot run here (no pocketsphinx), or undefined. */
function requirePocketsphinxQuietly(): string | undefined {
  let hint: string | undefined;
  requirePocketsphinx({ skip: (message: string) => { hint = message; } } as never);
  return hint;
}
