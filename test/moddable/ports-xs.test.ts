// The Moddable ports allocate nothing on the XS heap per frame, on xsrun (test/moddable/ports-xs-program.ts): the
// audio in and out adapters over xsrun's ECMA-419 audio drivers, with the native front end; the socket adapter over
// xsrun's TCP with the clock's repeating timer, against an echo server here. They run as the device does (precompiled
// bytecode, MCU creation settings: a program run from source allocates its string literals as it goes) and in real
// time, so a window is ~50 frames: an allocation per frame (a view, an array, a closure) shows as ≥ 50 slots or
// ≥ 800 chunk bytes (a chunk is ≥ 16 bytes). The idle window (nothing running) is the control: the window's own
// timer makes a chunk of ~24 bytes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fromRoot } from '../support/paths.js';
import { build, modules, runOnDeviceMachine } from '../support/xs-tools.js';

const missing = build.toolchain().missing;
const skip = missing ? `no XS runner: ${missing}` : false;
const PROGRAM = 'build/test/moddable/ports-xs-program.js';
const MAP = 'build/test/moddable/ports-xs.map';
const BUNDLE = 'build/test/moddable/ports-xs.xsb';

interface Window { slots: number; chunks: number; frames: number; collections: number }
const windows = new Map<string, Window>();
let output = '';

before(async () => {
  if (skip) return;
  await build.buildXsrun({ quiet: true });
  mkdirSync(fromRoot('build/test/moddable'), { recursive: true });
  const graph = modules.moduleGraph([PROGRAM]);
  modules.writeMap(fromRoot(MAP), graph.aliases);
  const compiled = spawnSync(build.xsrunPath, ['--map', MAP, '--compile', BUNDLE, ...graph.keys], { cwd: fromRoot(), encoding: 'utf8' });
  assert.equal(compiled.status, 0, compiled.stderr);
  const server: Server = createServer((peer) => peer.pipe(peer));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const run = await runOnDeviceMachine(['--bundle', BUNDLE, PROGRAM, String((server.address() as AddressInfo).port)]);
    output = run.output;
    const code = run.code;
    assert.equal(code, 0, output);
  } finally {
    server.close();
  }
  for (const line of output.split('\n')) {
    const [kind, name, ...fields] = line.trim().split(' ');
    if (kind === 'alloc') {
      const [slots, chunks, frames, collections] = fields.map(Number);
      windows.set(name, { slots, chunks, frames, collections });
    }
  }
});

for (const name of ['capture', 'speaker', 'socket']) {
  test(`${name}: nothing allocated on the XS heap over a second of frames`, { skip }, (t) => {
    const idle = windows.get('idle');
    const w = windows.get(name);
    assert.ok(idle && w, `no window for ${name}:\n${output}`);
    t.diagnostic(`${name}: ${w.slots} slots, ${w.chunks} chunk bytes over ${w.frames} frames, ${w.collections} collections (idle: ${idle.slots} slots, ${idle.chunks} chunk bytes)`);
    assert.ok(w.frames >= 25, `${w.frames} frames in the window`);
    assert.equal(w.collections, 0);
    assert.ok(w.slots <= idle.slots && w.chunks <= idle.chunks, `${w.slots} slots and ${w.chunks} chunk bytes over ${w.frames} frames; idle ${idle.slots} and ${idle.chunks}`);
  });
}
