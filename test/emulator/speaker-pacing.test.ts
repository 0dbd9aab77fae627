// Speaker pacing at real time (issue items 4–6): the emulator streams a 60 s alert and then a 30 s answer to a
// device at real time, declaring the official client's buffer (60,000 B, OVERRUN_WARNING from 48,000,
// UNDERRUN_WARNING under 12,000) and its maxSizeInBytes (6,000). The official client's rules: a message that does
// not fit is an OVERRUN, a buffer run dry while playing an UNDERRUN, more than 4 UNDERRUNs in a 4 s check or an
// ALERTING state unchanged for one makes it disconnect GOING_OFFLINE. So: no OVERRUN, no UNDERRUN, every message
// within the declared size, ALERTING said again within every 4 s of the ring, and one connection throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavAudioIn, wavAudioOut } from '../../hosts/node/audio.js';
import { nodeOpus } from '../../hosts/node/opus.js';
import { nodePorts } from '../../hosts/node/ports.js';
import { Device } from '../../src/app/device.js';
import { deviceConfigFor, startCloud } from '../../emulator/cloud.js';
import { until } from '../support/ais.js';
import { captureLogger } from '../support/log.js';
import { protocolTrace } from '../support/trace.js';
import { requirePocketsphinx } from './voice/tools.js';

test('a 60 s alert and a 30 s answer to a device at real time: no OVERRUN, no UNDERRUN, messages within maxSizeInBytes, ALERTING refreshed', { timeout: 180_000 }, async (t) => {
  if (!requirePocketsphinx(t)) return;
  const cloudLog = captureLogger('cloud');
  const cloud = await startCloud({ log: cloudLog.log, pollIntervalMs: 100, trace: true, alerts: { durationMs: 60_000 } });
  const dataDir = mkdtempSync(join(tmpdir(), 'ais-pacing-'));
  const { log, lines } = captureLogger('sdk-buffer');
  const audioOut = wavAudioOut({ realtime: true });
  const device = new Device({ ...nodePorts(dataDir, log), audio: { audioIn: wavAudioIn({ realtime: true }), audioOut, opus: nodeOpus } }, {
    ...deviceConfigFor(cloud, 'sdk-buffer'), trace: true, maxMessageBytes: 6000,
    speakerBuffer: { bufferBytes: 60_000, overrunWarningBytes: 48_000, underrunWarningBytes: 12_000 },
  }, { onCode: (pair) => cloud.lwa.approve(pair.userCode) });
  try {
    device.start();
    await until('ready', () => device.state === 'ready' && cloud.service.deviceState('sdk-buffer')?.synchronizedState !== undefined, 20_000);
    await until('the virtual device', () => cloud.voice!.hasVoice('sdk-buffer'), 20_000);
    const startedAt = performance.now();
    cloud.alerts.set('sdk-buffer', 'ALARM', cloud.alerts.nowSeconds() + 1, 'seven o clock');
    await until('ringing', () => cloud.alerts.list('sdk-buffer').some((a) => a.ringing), 10_000);
    let answered = false;
    cloud.voice!.play('sdk-buffer', 'Here is a long answer that goes on for half a minute.', 30_000, 'SPEAKING', () => { answered = true; });
    await until('both played', () => answered && protocolTrace(lines).filter((m) => m.name === 'SpeakerClosed').length >= 2, 150_000);
    const trace = protocolTrace(lines);
    const states = trace.filter((m) => m.name === 'BufferStateChanged').map((m) => String(m.payload.state));
    t.diagnostic(`buffer states reported: ${states.join(' ') || 'none'}; ${((performance.now() - startedAt) / 1000).toFixed(1)} s from setting the alert to the last SpeakerClosed`);
    assert.deepEqual(states.filter((s) => s === 'OVERRUN' || s === 'UNDERRUN'), []);
    const sizes = cloudLog.lines.map((l) => /sdk-buffer → speaker #\d+ binary (\d+) B/.exec(l)).filter((m) => m !== null).map((m) => Number(m[1]) + 36);
    t.diagnostic(`${sizes.length} speaker messages, largest ${Math.max(...sizes)} B`);
    assert.ok(sizes.length > 0 && Math.max(...sizes) <= 6000, `largest speaker message ${Math.max(...sizes)} B`);
    // ALERTING at most 2 s of audio apart through the ring: the official client's 4 s check always sees a change.
    const alerting = trace.filter((m) => m.dir === '←' && m.name === 'SetAttentionState' && m.payload.state === 'ALERTING').map((m) => Number(m.payload.offset));
    const gaps = alerting.slice(1).map((o, i) => (o - alerting[i]) / 160 * 20);
    assert.ok(alerting.length >= 30 && Math.max(...gaps) <= 2000, `ALERTING offsets ${alerting.join(' ')}`);
    assert.equal(cloud.service.deviceState('sdk-buffer')!.connections, 1, 'no reconnect');
    assert.ok(!lines.some((l) => /GOING_OFFLINE|UNEXPECTED_SEQUENCE_NUMBER/.test(l)), lines.filter((l) => /GOING_OFFLINE|UNEXPECTED/.test(l)).join('\n'));
  } finally {
    device.stop();
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
