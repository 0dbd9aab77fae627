// The device's alerts on the Node folder store survive a kill at every storage step: a child process runs a
// script of alert changes through the real Alerts component and is killed by SIGKILL after each step in turn;
// after a restart no acknowledged alert is lost, none is duplicated, and the set is the one before or after the
// operation that was cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FolderStorage } from '../../../hosts/node/storage.js';
import { ALERT_VOLUME_KEY, ALERTS_KEY, AlertStore, decodeAlerts } from '../../../src/ais/alert-store.js';
import { SCRIPT, T0 } from '../../support/alert-writer.js';

const writer = fileURLToPath(new URL('../../support/alert-writer.js', import.meta.url));

/** Tokens with their times after each operation of SCRIPT (index i: after i operations). */
const EXPECTED: string[][] = [[], ['A@100'], ['A@100', 'B@200'], ['A@100', 'B@200', 'C@50'], ['A@150', 'B@200', 'C@50'],
  ['A@150', 'C@50'], ['A@150'], ['A@150'], []];

function run(directory: string, stopAfter: number): { status: number | null; signal: NodeJS.Signals | null; done: number; steps?: number; stderr: string } {
  const r = spawnSync(process.execPath, [writer, JSON.stringify({ directory, stopAfter })], { encoding: 'utf8', timeout: 30_000 });
  const done = r.stdout.split('\n').filter((l) => l.startsWith('done ')).length;
  const steps = /steps (\d+)/.exec(r.stdout)?.[1];
  return { status: r.status, signal: r.signal, done, steps: steps === undefined ? undefined : Number(steps), stderr: r.stderr };
}

function stored(directory: string): string[] {
  const bytes = new FolderStorage({ directory }).get(ALERTS_KEY);
  if (!bytes) return [];
  // decodeAlerts refuses a token stored twice: a duplicate fails here.
  return decodeAlerts(bytes).map((a) => `${a.token}@${a.scheduledTime - T0}`).sort();
}

test('a kill after any storage step of any alert change loses no acknowledged alert and duplicates none', (t) => {
  const dirs: string[] = [];
  t.after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'ais-alert-crash-'));
    dirs.push(d);
    return d;
  };
  // A whole run first: it ends in the expected state and says how many storage steps the script takes.
  const whole = fresh();
  const full = run(whole, -1);
  assert.equal(full.status, 0, full.stderr);
  assert.equal(full.done, SCRIPT.length);
  assert.deepEqual(stored(whole), EXPECTED[SCRIPT.length]);
  const steps = full.steps!;
  assert.ok(steps >= 30, `the script takes ${steps} storage steps`);
  const outcomes = new Set<string>();
  for (let k = 0; k <= steps; k++) {
    const dir = fresh();
    const r = run(dir, k);
    assert.equal(r.signal, 'SIGKILL', `killed after step ${k}: ${r.stderr}`);
    const after = stored(dir);
    const allowed = [EXPECTED[r.done]!, EXPECTED[r.done + 1]!].map((e) => [...e].sort());
    assert.ok(allowed.some((e) => JSON.stringify(e) === JSON.stringify(after)),
      `killed after step ${k} (${r.done} operations acknowledged): stored ${JSON.stringify(after)}, expected ${allowed.map((e) => JSON.stringify(e)).join(' or ')}`);
    outcomes.add(`${r.done}:${after.join(',')}`);
    // The store opens cleanly for the device after the restart.
    assert.doesNotThrow(() => new AlertStore(new FolderStorage({ directory: dir })));
    const volume = new FolderStorage({ directory: dir }).get(ALERT_VOLUME_KEY);
    assert.ok(volume === undefined || (volume.length === 1 && volume[0] === 30), `alert volume old or new, got ${volume}`);
  }
  t.diagnostic(`${steps + 1} kills, ${outcomes.size} distinct (acknowledged, stored) outcomes`);
  // Each operation was cut both before and after its write became durable somewhere in the sweep.
  assert.ok(outcomes.size >= SCRIPT.length, `outcomes ${[...outcomes].join(' | ')}`);
});
