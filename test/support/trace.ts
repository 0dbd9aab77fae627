// The device's protocol trace as messages (from its `trace: true` log lines), and an in-order check over it:
// shared by the voice tests on Node (test/emulator/voice-round-trip.test.ts) and on XS (test/xs/voice.test.ts).
import assert from 'node:assert/strict';
import type { AisMessage } from '../../src/ais/message.js';

/** One AIS message of the device's protocol trace: → out (events), ← in (directives). */
export interface Traced { dir: '→' | '←'; name: string; payload: Record<string, unknown> }

/** The device's trace lines as messages, one per event or directive (a line may batch several). */
export function protocolTrace(lines: string[]): Traced[] {
  const out: Traced[] = [];
  for (const line of lines) {
    const m = /(→|←) (?:event|directive) #\d+ [\w,]+ (\{.*\})$/.exec(line);
    if (!m) continue;
    const json = JSON.parse(m[2]) as { events?: AisMessage[]; directives?: AisMessage[] };
    for (const message of json.events ?? json.directives ?? []) out.push({ dir: m[1] as Traced['dir'], name: message.header.name, payload: message.payload ?? {} });
  }
  return out;
}

/** The messages named, each the first after the previous (e.g. '→MicrophoneOpened'); fails naming the first missing. */
export function inOrder(trace: Traced[], names: string[], from = 0): Traced[] {
  const found: Traced[] = [];
  let after = from - 1;
  for (const name of names) {
    const next = trace.findIndex((t, i) => i > after && `${t.dir}${t.name}` === name);
    assert.ok(next > after, `${name} in the device trace after ${found.length ? names[found.length - 1] : 'the start'}: ${trace.slice(Math.max(0, after)).map((t) => t.dir + t.name).join(' ')}`);
    found.push(trace[next]);
    after = next;
  }
  return found;
}
