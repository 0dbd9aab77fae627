// A spoken turn the network cuts (issue 24 item 5), on the Node host as `npm run device --say a.wav --say b.wav`
// runs it (hosts/node/voice-cli.ts), against the whole emulator over real sockets, through the fault network of
// test/support/fault-network.ts. a.wav asks for a reminder (twice over, so seconds of it are left when the cut
// lands); the network is cut while the microphone streams it. The device must say so (the turn reported failed,
// the ERROR light, the error tone in what its speaker played), come back to IDLE, and the next turn must be b.wav
// and nothing else: the emulator hears exactly "what time is it", sets no reminder, and its console shows no
// LISTENING or THINKING left over. Before the fix the rest of a.wav went into b's turn ahead of b.wav.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodePorts } from '../../hosts/node/ports.js';
import { nodeVoice } from '../../hosts/node/voice-cli.js';
import type { WavAudioOut } from '../../hosts/node/audio.js';
import { Device, type AttentionState } from '../../src/app/device.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import type { AnswerEvent, TranscriptEvent } from '../../emulator/voice/virtual-device.js';
import { faultNetwork } from '../support/fault-network.js';
import { until } from '../support/ais.js';
import { isErrorTone } from '../support/audio.js';
import { captureLogger } from '../support/log.js';
import { B_WORDS, writeCutTurnFiles } from '../support/cut-turn-files.js';
import { requirePocketsphinx } from './voice/tools.js';

const CLIENT_ID = 'cut-1';

test('a turn cut by the network ends visibly (failed, ERROR, error tone, back to IDLE) and the next --say file is heard as exactly its own words', async (t) => {
  if (!requirePocketsphinx(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ais-cut-turn-'));
  const { a, b } = await writeCutTurnFiles(dir);

  const transcripts: TranscriptEvent[] = [];
  const answers: AnswerEvent[] = [];
  const cloud = await startCloud({
    pollIntervalMs: 100, log: captureLogger('cloud', 'warn').log,
    voice: { now: () => new Date('2026-11-23T14:05:00Z'), timeZone: 'UTC', onTranscript: (_id, e) => transcripts.push(e), onAnswer: (_id, e) => answers.push(e) },
  });
  const dataDir = join(dir, 'data');
  const network = faultNetwork(nodePorts(dataDir, captureLogger('x').log).socket);
  const { log, lines } = captureLogger(CLIENT_ID, 'info');
  const said = nodeVoice({ say: [a, b] }, log.child('voice'));
  const lights: AttentionState[] = [];
  const failures: string[] = [];
  const device: Device = new Device({ ...nodePorts(dataDir, log), socket: network.socket, audio: said.audio },
    { ...deviceConfigFor(cloud, CLIENT_ID), connection: { reconnect: { minDelayMs: 100, maxDelayMs: 500 } } },
    {
      onCode: (pair) => cloud.lwa.approve(pair.userCode),
      onStateChange: (state) => { if (state === 'ready') said.ready(device); },
      onAttention: (light) => { lights.push(light); said.attention(light); },
      onTurnFailed: (reason) => { failures.push(reason); said.turnFailed(reason); },
    });
  const tail = () => lines.slice(-30).join('\n');
  try {
    device.start();
    await until('a.wav streaming', () => device.microphone?.state === 'open', 30_000);
    // In the middle of a.wav's first "remind me", for 1.5 s: the device is back well before a.wav would end.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const speakerFramesBefore = (said.audio!.audioOut as { last?: WavAudioOut }).last!.played.length;
    network.inject({ kind: 'cut', direction: 'up', ms: 1500 });
    await until('the failed turn reported', () => failures.length > 0, 5000);
    assert.match(failures[0], /connection was lost while the microphone was open/);
    assert.equal(device.microphone?.state, 'closed', 'the interrupted stream is closed at once');
    assert.ok(lines.some((l) => /WARN .*turn failed: the connection was lost/.test(l)), 'one log line says so');
    assert.ok(lines.some((l) => /a\.wav: turn failed .*not retried/.test(l)), `the file is reported not retried\n${tail()}`);

    await until("b.wav's answer", () => answers.length > 0, 60_000);
    await until('IDLE after the answer', () => lights.at(-1) === 'IDLE' && device.microphone?.state === 'closed', 30_000);
    assert.deepEqual(answers.map((e) => e.intent), ['time'], `the one answer is b.wav's: heard ${JSON.stringify(transcripts.map((e) => e.text))}`);
    assert.equal(transcripts.at(-1)?.text, B_WORDS, 'b.wav heard as exactly its words, nothing of a.wav ahead of it');
    assert.ok(!transcripts.some((e) => /remind/.test(e.text)), `nothing of a.wav answered: ${JSON.stringify(transcripts.map((e) => e.text))}`);

    // The light: LISTENING for a.wav, straight to ERROR, back to IDLE; then b.wav's turn.
    const error = lights.indexOf('ERROR');
    assert.ok(error > 0, `ERROR shown: ${lights.join(' → ')}`);
    assert.deepEqual(lights.slice(error - 1, error + 3), ['LISTENING', 'ERROR', 'IDLE', 'LISTENING'], lights.join(' → '));
    const played = (said.audio!.audioOut as { last?: WavAudioOut }).last!.played.slice(speakerFramesBefore);
    const toneFrames = played.filter(isErrorTone).length;
    assert.ok(toneFrames >= 14, `the error tone played: ${toneFrames} of its 16 tone frames`);
    const attention = cloud.service.deviceState(CLIENT_ID)?.attention;
    assert.ok(attention === undefined || attention === 'IDLE', `the emulator's console shows no turn left over: attention ${attention}`);
  } finally {
    device.stop();
    said.close();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
