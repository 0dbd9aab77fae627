// Child process of test/hosts/node/alert-storage.test.ts: the device's Alerts component on a real folder store
// runs a fixed script of alert changes (set, replace, delete, ring to the end, volume) and kills itself with
// SIGKILL after storage step `stopAfter` (counted over the whole script), as a power cut would. It prints
// "done <i>" on stdout (a pipe: written synchronously) after operation i has returned, and "steps <n>" at the
// end of a run that was not stopped.
// Usage: node alert-writer.js '{"directory":"...","stopAfter":7}'
import { writeSync } from 'node:fs';
import { FolderStorage } from '../../hosts/node/storage.js';
import { Alerts } from '../../src/ais/alerts.js';
import { WallClock } from '../../src/ais/clock.js';
import { Dispatcher } from '../../src/ais/dispatcher.js';
import { Logger, silentSink } from '../../src/ports/log.js';
import { ManualClock } from './manual-clock.js';

export const T0 = 3_900_000_000;

/** The script: each entry is one operation; expected sets of tokens after each are in the test. */
export const SCRIPT: readonly { name: string; payload: Record<string, unknown> }[] = [
  { name: 'SetAlert', payload: { token: 'A', type: 'TIMER', scheduledTime: T0 + 100, durationInMilliseconds: 1000 } },
  { name: 'SetAlert', payload: { token: 'B', type: 'ALARM', scheduledTime: T0 + 200, durationInMilliseconds: 1000 } },
  { name: 'SetAlert', payload: { token: 'C', type: 'REMINDER', scheduledTime: T0 + 50, durationInMilliseconds: 1000 } },
  { name: 'SetAlert', payload: { token: 'A', type: 'TIMER', scheduledTime: T0 + 150, durationInMilliseconds: 1000 } },
  { name: 'DeleteAlert', payload: { token: 'B' } },
  { name: 'advance', payload: { ms: 52_000 } }, // C rings for its second, then is deleted
  { name: 'SetAlertVolume', payload: { volume: 30 } },
  { name: 'DeleteAlert', payload: { token: 'A' } },
];

const plan = JSON.parse(process.argv[2] ?? '{}') as { directory: string; stopAfter: number };
if (plan.directory) {
  let steps = 0;
  const die = (): never => {
    process.kill(process.pid, 'SIGKILL');
    throw new Error('SIGKILL did not stop the writer');
  };
  const storage = new FolderStorage({ directory: plan.directory, onStep: () => { if (++steps === plan.stopAfter) die(); } });
  if (plan.stopAfter === 0) die();
  const clock = new ManualClock(0);
  const wall = new WallClock({ clock });
  wall.set(T0);
  const dispatcher = new Dispatcher();
  const alerts = new Alerts({
    connection: { dispatcher, sendEvent: () => true }, clock, wall, storage, log: new Logger(silentSink, 'alerts'), online: () => false,
  });
  SCRIPT.forEach((op, i) => {
    if (op.name === 'advance') clock.advance(op.payload.ms as number);
    else dispatcher.handlerFor(op.name)!({ header: { name: op.name, messageId: `m${i}` }, payload: op.payload }, { sequenceNumber: i, index: 0 });
    writeSync(1, `done ${i}\n`);
  });
  alerts.close();
  writeSync(1, `steps ${steps}\n`);
}
