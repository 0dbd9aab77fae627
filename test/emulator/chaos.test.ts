// The chaos test (issue 24): a Node-host Device with audio ports talks to the whole emulated cloud through a
// seeded fault network of ours (test/support/fault-network.ts). Over 20 spoken turns ("what time is it", tap to
// talk) one fault per turn hits the AIS traffic in one direction: a PUBLISH dropped, duplicated, swapped with
// the next, a byte of its ciphertext flipped, everything delayed, or the connection cut for a while; every kind
// in both directions, and clean turns for the baseline. Each turn is answered, or it fails visibly (the device
// reports it, its light goes to ERROR) and the device comes back to ready with its microphone closed, its light
// IDLE and the emulator's attention not THINKING, and the turn is tried again (a new tap, the question from its
// start) and answered. No stale audio: when a turn fails the user stops talking (WavAudioIn.abandon, as the Node
// host's --say does) and every answered turn's transcript is exactly the question, nothing of a failed turn's
// audio ahead of it. No crash, no stuck state.
// Prints faults, turns answered, recoveries and each fault's cost in latency; with FAULTS_FIGURES=path it also
// writes them there as markdown (docs/figures/faults.md). RANDOM_SEED replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device } from '../../src/app/device.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import { concat, silence } from '../../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../../emulator/voice/tts.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { faultNetwork, type Fault, type FaultKind } from '../support/fault-network.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { Random, testSeed } from '../support/random.js';
import { requirePocketsphinx } from './voice/tools.js';

const SEED = testSeed();
const KINDS: FaultKind[] = ['drop', 'duplicate', 'reorder', 'delay', 'flip', 'cut'];
const TURNS = 20;
const CLIENT_ID = 'chaos-1';

interface TurnResult { fault: Fault | undefined; answered: boolean; recoveredMs?: number; latencyMs: number }

test(`${TURNS} spoken turns through a seeded fault network: each answered, or failed, recovered and answered on retry (seed ${SEED})`, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const random = new Random(SEED);
  // Every kind in both directions once, then clean turns and seeded picks; shuffled.
  const plan: (Fault | undefined)[] = KINDS.flatMap((kind) => (['up', 'down'] as const).map((direction) => ({ kind, direction })));
  while (plan.length < TURNS) plan.push(plan.length < 16 ? undefined : { kind: random.pick(KINDS), direction: random.next() < 0.5 ? 'up' : 'down' });
  for (let i = plan.length - 1; i > 0; i--) { const j = random.int(i + 1); [plan[i], plan[j]] = [plan[j], plan[i]]; }
  for (const fault of plan) if (fault && (fault.kind === 'delay' || fault.kind === 'cut')) fault.ms = 500 + random.int(2500);

  const synthesizer = await SpeechSynthesizer.create();
  const question = synthesizer.synthesize('what time is it', USER_VOICES['us-male']);
  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  let speakerClosed = 0;
  const cloud = await startCloud({
    pollIntervalMs: 100, log: captureLogger('cloud', 'warn').log,
    voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, a) => answers.push(a) },
    service: { onEvent: (_id, e) => { if (e.header.name === 'SpeakerClosed') speakerClosed++; } },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-chaos-'));
  const network = faultNetwork(nodePorts(dataDir, captureLogger('x').log).socket);
  const { log, lines } = captureLogger(CLIENT_ID, 'info');
  const audioIn = wavAudioIn({ realtime: true });
  let connectionDrops = 0;
  const failures: string[] = [];
  const lights: string[] = [];
  const device = new Device({ ...nodePorts(dataDir, log), socket: network.socket, audio: { audioIn, audioOut: wavAudioOut({ realtime: true }), opus: nodeOpus } },
    { ...deviceConfigFor(cloud, CLIENT_ID), connection: { reconnect: { minDelayMs: 100, maxDelayMs: 1000 }, gapTimeoutMs: 2000 } },
    {
      onCode: (pair) => cloud.lwa.approve(pair.userCode),
      onStateChange: (state) => { if (state === 'waiting' || state === 'linking') connectionDrops++; },
      onAttention: (light) => lights.push(light),
      onTurnFailed: (reason) => { failures.push(reason); audioIn.last?.abandon(); },
    });
  const results: TurnResult[] = [];
  const ready = () => device.state === 'ready' && cloud.service.isConnected(CLIENT_ID) && device.microphone?.state === 'closed'
    && (lights.at(-1) ?? 'IDLE') === 'IDLE' && cloud.service.deviceState(CLIENT_ID)?.attention !== 'THINKING';
  /** One tap-to-talk turn; resolves whether it was answered and when. */
  const turn = async (fault: Fault | undefined): Promise<{ answered: boolean; ms: number }> => {
    audioIn.last!.say(concat(silence(4000), question, silence(4000)));
    const answersBefore = answers.length;
    const transcriptsBefore = transcripts.length;
    const failuresBefore = failures.length;
    const lightsBefore = lights.length;
    const closedBefore = speakerClosed;
    const started = performance.now();
    device.microphone!.tap();
    if (fault) {
      if (fault.direction === 'up') await new Promise((resolve) => setTimeout(resolve, 300 + random.int(900)));
      network.inject(fault);
    }
    const dropsBefore = connectionDrops;
    // Answered and played, or failed in a way the device itself saw (its connection restarted).
    await until('answered, or the connection restarted', () => (answers.length > answersBefore && speakerClosed > closedBefore) || connectionDrops > dropsBefore, 30_000);
    const answered = connectionDrops === dropsBefore;
    const ms = performance.now() - started;
    const what = `${fault ? `${fault.kind} ${fault.direction}` : 'clean'} (seed ${SEED})`;
    if (answered) {
      // No stale audio: the question alone, from its start.
      assert.equal(transcripts.slice(transcriptsBefore).at(-1)?.text, 'what time is it', `${what}: heard ${JSON.stringify(transcripts.slice(transcriptsBefore).map((e) => e.text))}`);
    } else {
      // Failed visibly: reported, the ERROR light.
      await until(`${what}: the failed turn reported`, () => failures.length > failuresBefore, 5000);
      assert.ok(lights.slice(lightsBefore).includes('ERROR'), `${what}: ERROR shown (${lights.slice(lightsBefore).join(' → ')})`);
    }
    if (process.env.CHAOS_VERBOSE) process.stderr.write(`turn: ${fault ? `${fault.kind} ${fault.direction}` : 'clean'} ${answered ? 'answered' : 'failed'} in ${Math.round(ms)} ms\n`);
    return { answered, ms };
  };
  try {
    device.start();
    await until('ready', ready, 30_000);
    for (let i = 0; i < TURNS; i++) {
      const fault = plan[i];
      const first = await turn(fault);
      if (first.answered) {
        results.push({ fault, answered: true, latencyMs: first.ms });
        continue;
      }
      assert.ok(fault, `turn ${i} without a fault was not answered (seed ${SEED})\n${lines.slice(-40).join('\n')}`);
      const since = performance.now();
      await until(`turn ${i} (${fault.kind} ${fault.direction}): the device back to ready with its microphone closed`, ready, 30_000);
      const recoveredMs = performance.now() - since;
      const retry = await turn(undefined);
      assert.ok(retry.answered, `turn ${i} retried after ${fault.kind} ${fault.direction} was not answered (seed ${SEED})\n${lines.slice(-40).join('\n')}`);
      results.push({ fault, answered: false, recoveredMs, latencyMs: first.ms + recoveredMs + retry.ms });
    }
    assert.equal(network.done.length, plan.filter((f) => f !== undefined).length, 'every fault was done');
    // No stale audio: whatever the faults, every answer the device played was to the question asked.
    for (const [i, a] of answers.entries()) assert.equal(a.intent, 'time', `answer ${i}: heard ${JSON.stringify(transcripts[i]?.text)}`);
    assert.ok(!lines.some((l) => /uncaught|TypeError|RangeError/.test(l)), 'no crash in the device log');
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const table = figures(results, SEED);
  t.diagnostic(table);
  if (process.env.FAULTS_FIGURES) writeFileSync(process.env.FAULTS_FIGURES, table);
});

function figures(results: TurnResult[], seed: number): string {
  const clean = results.filter((r) => !r.fault).map((r) => r.latencyMs);
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
  const base = median(clean);
  const rows = KINDS.flatMap((kind) => (['up', 'down'] as const).map((direction) => {
    const of = results.filter((r) => r.fault?.kind === kind && r.fault.direction === direction);
    const answered = of.filter((r) => r.answered).length;
    const recoveries = of.filter((r) => !r.answered);
    const cost = median(of.map((r) => r.latencyMs)) - base;
    return `| ${kind} | ${direction === 'up' ? 'device → cloud' : 'cloud → device'} | ${of.length} | ${answered} | ${recoveries.length} | `
      + `${recoveries.length ? `${(median(recoveries.map((r) => r.recoveredMs!)) / 1000).toFixed(1)} s` : '–'} | ${Number.isNaN(cost) ? '–' : `${cost >= 0 ? '+' : ''}${(cost / 1000).toFixed(1)} s`} |`;
  }));
  return [
    `# Faults: a device through a seeded fault network (seed ${seed})`,
    '',
    `${results.length} tap-to-talk turns ("what time is it") of a Node-host device against the emulator, one fault per`,
    'faulted turn on the next AIS PUBLISH in one direction (test/emulator/chaos.test.ts). "Answered" is answered',
    'despite the fault; a "recovery" is a turn that failed visibly (reported, the ERROR light and the error tone), the',
    'device back to ready (light IDLE, microphone closed), and the turn retried with a new tap from the question\'s start',
    `and answered. Cost: the median time from the tap to the answer played (retry included) less the clean turns' median`,
    `(${(base / 1000).toFixed(1)} s over ${clean.length} turns).`,
    '',
    '| fault | direction | turns | answered | recoveries | back to ready | latency cost |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
