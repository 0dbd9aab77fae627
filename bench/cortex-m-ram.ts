// The device image's RAM by owner (npm run bench:firmware-ram): a session of the device image on QEMU's Cortex-M7
// against the emulator through its co-processor link (link, register, connect, a spoken turn when pocketsphinx is
// there, a timer rung locally with the network cut), then its last report (XS's slots, chunks and malloc, the native
// state, the link's heap) and the board's exit line (newlib's heap high-water mark, the stack peaks), with the static
// data from the linker map. Beside it, what TLS on the MCU would add: a session of the same application on xsrun
// built with hosts/xs/tls_meter.c (Debian's mbedTLS, its heap and stack measured) against the same emulator.
// Writes docs/figures/firmware-ram.md and docs/figures/firmware-ram.svg (a treemap).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deviceConfigFor, startCloud, type Cloud } from '../emulator/cloud.js';
import { pocketsphinxMissingHint } from '../emulator/voice/asr.js';
import { concat, silence } from '../emulator/voice/pcm.js';
import { SpeechSynthesizer, USER_VOICES } from '../emulator/voice/tts.js';
import { commandLine } from '../hosts/node/command-line.js';
import { mbedtlsMissingHint, prepareXsDevice, spawnXsDevice } from '../hosts/node/xs-launch.js';
import { childLines } from '../test/support/child-lines.js';
import { mosquittoMissingHint, startMosquitto } from '../test/support/mosquitto.js';
import { createTestPki } from '../test/support/pki.js';
import { bootM7Board, ringTimerOffline, waitOnBoard } from '../test/support/m7-board.js';
import { fromRoot } from '../test/support/paths.js';
import { until } from '../test/support/wait.js';
import { treemapSvg, type TreemapItem } from './treemap.js';

interface Launch {
  DEVICE_IMAGE_RAM_SIZE: number;
  prepareImageDevice(options: { ramSize: number }): Promise<{ elf: string; map: string; prepared: { bytes: number } }>;
}
const launch = await import(pathToFileURL(fromRoot('hosts', 'cortex-m', 'device-launch.mjs')).href) as Launch;
const xsBuild = await import(pathToFileURL(fromRoot('hosts', 'xs', 'build.mjs')).href) as { buildXsrun(o: { quiet: boolean; targets: string[] }): Promise<string> };
const TLS_METER = fromRoot('build', 'xs', 'xsrun-tls-meter');

const { values } = commandLine({
  command: 'npm run bench:firmware-ram --',
  summary: 'The device image\'s RAM by owner after a session on the emulated Cortex-M7, and what TLS would add (mbedTLS on xsrun); '
    + 'writes docs/figures/firmware-ram.md and docs/figures/firmware-ram.svg.',
  options: {
    'ram-size': { type: 'string', value: 'BYTES', help: 'the image\'s RAM_SIZE', default: String(launch.DEVICE_IMAGE_RAM_SIZE) },
    'no-write': { type: 'boolean', help: 'print the table, write nothing' },
  },
});
const ramSize = Number(values['ram-size']);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const num = (bytes: number) => bytes.toLocaleString('en-US');

interface ImageReport {
  memory: { malloc: { current: number; peak: number }; chunks: { current: number; peak: number; reserved: number }; slots: { current: number; peak: number; reserved: number; bytes: number }; stack: { peak: number; size: number }; gcCount: number; keys: number };
  link: Record<string, number>;
  native: { opusEncoder: number; opusDecoder: number; aec: number; kws: number };
}

/** The M7 session; resolves to the image's last report, the board's exit figures and whether a turn was spoken. */
async function imageSession(cloud: Cloud): Promise<{ boot: ImageReport; report: ImageReport; exit: Record<string, number>; spoke: boolean }> {
  const clientId = 'm7-ram';
  const board = await bootM7Board(cloud, deviceConfigFor(cloud, clientId));
  const { lines } = board;
  const wait = (what: string, done: () => boolean, ms: number) => waitOnBoard(board, what, done, ms);
  try {
    await wait('ready', () => lines.some((l) => l.endsWith('[device] state ready')), 300_000);
    const spoke = pocketsphinxMissingHint() === undefined;
    if (spoke) {
      const synthesizer = await SpeechSynthesizer.create();
      const played = board.bridge.played.length;
      board.bridge.event('button tap');
      board.bridge.say(concat(silence(4000), synthesizer.synthesize('what time is it', USER_VOICES['us-male']), silence(12000)));
      await wait('the answer played', () => board.bridge.played.length - played > 40, 180_000);
    } else console.log(`  no spoken turn: ${pocketsphinxMissingHint()}`);
    await ringTimerOffline(board, cloud, clientId);
    board.bridge.event('exit');
    await wait('the exit line', () => lines.some((l) => l.startsWith('# board: exit')), 60_000);
    const report = JSON.parse(lines.filter((l) => l.startsWith('image-report ')).at(-1)!.slice('image-report '.length)) as ImageReport;
    const boot = JSON.parse(lines.find((l) => l.startsWith('image-memory boot '))!.slice('image-memory boot '.length)) as ImageReport;
    const exitLine = lines.find((l) => l.startsWith('# board: exit'))!;
    const exit = Object.fromEntries([...exitLine.matchAll(/(\w+)=(\d+)/g)].map(([, key, value]) => [key, Number(value)]));
    if (exit.code !== 0 || exit.heap_refused !== 0) throw new Error(`the session did not fit RAM_SIZE ${ramSize}: ${exitLine}`);
    return { boot, report, exit, spoke };
  } finally {
    await board.close();
  }
}

const STATIC_NOTES: Record<string, string> = {
  'link RX ring, channels': '.bss of netlink.c: the 8 KB RX ring the UART interrupt fills, the channel table, the random pool',
  'AES-GCM key cache': '.bss of native/aes_gcm.c: the last key\'s schedule and GHASH table, the round tables',
  'newlib statics': '.data and .bss of newlib: reentrancy, locale, time zone',
  'other statics': '.data and .bss of the board, the platform layer and the engine',
};

/** Static RAM (.data and .bss) by owner, from the linker map's input sections. */
function staticBy(map: string): Record<string, number> {
  const owners: Record<string, number> = {};
  const text = readFileSync(map, 'utf8');
  // An input section on one line (` .bss.rxRing 0x… 0x2000 build/…/netlink.o`) or its name alone, the rest on the next.
  for (const m of text.matchAll(/^ \.(?:bss|data)(?:\.\S+)?\s*\n?\s+0x([0-9a-f]{8})\s+0x([0-9a-f]+)\s+(\S+)$/gm)) {
    const [, address, size, file] = m;
    if (parseInt(address, 16) < 0x20000000) continue;
    const owner = file.includes('/board/netlink.o') ? 'link RX ring, channels'
      : file.includes('/native/aes_gcm') ? 'AES-GCM key cache'
        : /lib(c|m|g)/.test(file) ? 'newlib statics' : 'other statics';
    owners[owner] = (owners[owner] ?? 0) + parseInt(size, 16);
  }
  return owners;
}

/**
 * A session of the device on xsrun built with the TLS meter: HTTPS to the emulator (linking, registration) and MQTT
 * over mutual TLS to mosquitto (OpenSSL, records up to 16 KB as AWS IoT sends them), as test/xs/device.test.ts
 * connects its porch device. Resolves to the meter's figures.
 */
async function tlsSession(): Promise<Record<string, number | string>> {
  await prepareXsDevice();
  await xsBuild.buildXsrun({ quiet: true, targets: ['tls-meter'] });
  const dir = mkdtempSync(join(tmpdir(), 'ais-tls-meter-'));
  const pki = createTestPki({ dir: join(dir, 'pki'), clientNames: ['ais-service', 'xs-tls-meter'] });
  const broker = await startMosquitto({ tls: { caPath: pki.ca.certPath, certPath: pki.server.certPath, keyPath: pki.server.keyPath }, serviceIdentity: 'ais-service' });
  const tlsFor = (cn: string) => ({ ca: pki.ca.certPem, certificate: pki.client(cn).certPem, key: pki.client(cn).keyPem, serverName: 'localhost' });
  const cloud = await startCloud({ pollIntervalMs: 100, externalBroker: { host: '127.0.0.1', port: broker.tlsPort!, tls: tlsFor('ais-service') } });
  const child = spawnXsDevice({ config: { ...deviceConfigFor(cloud, 'xs-tls-meter'), mqttTls: tlsFor('xs-tls-meter') }, dataDir: join(dir, 'data'), binary: TLS_METER });
  const { lines } = childLines(child, (line) => {
    const code = /enter the code (\S+)$/.exec(line);
    if (code) cloud.lwa.approve(code[1]);
  });
  // 'close', not 'exit': the meter's line is the last thing on stderr.
  const closed = new Promise((resolve) => child.on('close', resolve));
  try {
    await until('xsrun ready', () => lines.some((l) => l.endsWith('state ready')) || child.exitCode !== null, 120_000);
    if (!lines.some((l) => l.endsWith('state ready'))) throw new Error(`xsrun did not reach ready:\n${lines.slice(-20).join('\n')}`);
    // The connected session's records: the capabilities, SynchronizeState, the clock, pings.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    child.kill('SIGTERM');
    await closed;
    const line = lines.find((l) => l.startsWith('xsrun tls-meter: '));
    if (!line) throw new Error(`no tls-meter line from xsrun:\n${lines.slice(-20).join('\n')}`);
    return JSON.parse(line.slice('xsrun tls-meter: '.length)) as Record<string, number | string>;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    cloud.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const started = performance.now();
const image = await launch.prepareImageDevice({ ramSize });
const cloud = await startCloud({ pollIntervalMs: 100, alerts: { durationMs: 3000 } });
let session: Awaited<ReturnType<typeof imageSession>>;
let tls: Record<string, number | string> | undefined;
try {
  console.log(`device image session, RAM_SIZE ${ramSize}`);
  session = await imageSession(cloud);
} finally {
  cloud.close();
}
const missingTls = mbedtlsMissingHint() ?? mosquittoMissingHint();
if (missingTls) console.log(`  TLS not measured: ${missingTls}`);
else tls = await tlsSession();

const { boot, report, exit, spoke } = session;
const { memory, native, link } = report;
const slots = memory.slots.reserved * memory.slots.bytes;
const jsStack = memory.stack.size * memory.slots.bytes;
const frontEnd = native.aec + native.kws;
const xsOther = memory.malloc.current - slots - memory.chunks.reserved - jsStack - frontEnd;
const opus = native.opusEncoder + native.opusDecoder;
const heapUsed = slots + memory.chunks.reserved + jsStack + frontEnd + xsOther + opus + link.heapPeak;
const statics = staticBy(image.map);
const staticTotal = exit.static;
const staticListed = Object.values(statics).reduce((a, b) => a + b, 0);

type Row = TreemapItem & { note: string };
const rows: Row[] = [
  { group: 'XS', label: 'XS slots', value: slots, note: `${num(memory.slots.reserved)} slots of ${memory.slots.bytes} B reserved (${num(memory.slots.peak)} peak): what the program makes and the prepared objects it changed (the realm and the modules are in flash)` },
  { group: 'XS', label: 'XS chunks', value: memory.chunks.reserved, note: `reserved (${num(memory.chunks.peak)} B peak in use): strings, arrays' items, typed arrays and ArrayBuffers (the app's message, audio and jitter buffers)` },
  { group: 'XS', label: 'XS JS stack', value: jsStack, note: `${memory.stack.size} slots (peak ${memory.stack.peak})` },
  { group: 'XS', label: 'XS tables and keys', value: xsOther, note: `XS's other malloc: the key and name tables (${num(memory.keys)} keys of its own), the prepared machine's alias table, the counting allocator's 16-byte headers` },
  { group: 'native state', label: 'front end (AEC, wake word)', value: frontEnd, note: `native/dsp: echo canceller ${num(native.aec)} B, wake word ${num(native.kws)} B` },
  { group: 'native state', label: 'libopus', value: opus, note: `encoder ${num(native.opusEncoder)} B, decoder ${num(native.opusDecoder)} B (libopus's malloc)` },
  { group: 'link', label: 'link buffers (heap)', value: link.heapPeak, note: 'socket receive windows (8 KB each), audio in (8 frames), the speaker\'s staging frame, the provisioning record while read (peak)' },
  { group: 'heap overhead', label: 'newlib malloc overhead', value: Math.max(0, exit.heap_peak - heapUsed), note: 'newlib\'s block headers and fragmentation at the high-water mark, and the owners\' peaks not coinciding' },
  ...Object.entries(statics).map(([label, value]) => ({ group: label.startsWith('link') ? 'link' : 'static', label, value, note: STATIC_NOTES[label] })),
  { group: 'static', label: 'other static, alignment', value: staticTotal - staticListed, note: 'sections the map gives without a size line, alignment' },
  { group: 'stacks', label: 'C stack', value: exit.stack, note: `STACK_SIZE; peak ${num(exit.stack_peak)} B (libopus's scratch)` },
  { group: 'stacks', label: 'handler stack, MPU guard', value: exit.handler_stack + 32, note: `peak ${exit.handler_stack_peak} B` },
  { group: 'free', label: 'heap never reached', value: exit.heap - exit.heap_peak, note: 'headroom at newlib\'s high-water mark' },
];
const total = rows.reduce((sum, row) => sum + row.value, 0);
const table = [
  '| owner | bytes | KB | what |',
  '|---|---:|---:|---|',
  ...rows.map((row) => `| ${row.label} | ${num(row.value)} | ${kb(row.value)} | ${row.note} |`),
  `| **RAM_SIZE** | **${num(total)}** | **${kb(total)}** | |`,
];
if (total !== exit.ram) throw new Error(`the owners add up to ${total} B, RAM_SIZE is ${exit.ram}`);
const needed = exit.ram - (exit.heap - exit.heap_peak);
const tlsRows = tls ? [
  '| TLS on the MCU (mbedTLS 2.28, Debian\'s build, on xsrun x86-64) | bytes |',
  '|---|---:|',
  `| heap peak over the session (${tls.handshakes} handshakes: HTTPS and MQTT; ${num(tls.allocations as number)} callocs) | ${num(tls.heapPeak as number)} |`,
  `| heap live while connected to MQTT (at the end) | ${num(tls.heapLive as number)} |`,
  `| largest single allocation (a record buffer: IN/OUT_CONTENT_LEN ${tls.inContentLen}/${tls.outContentLen} + overhead) | ${num(tls.largestAllocation as number)} |`,
  `| stack peak below io_tls.c's call (${tls.deepestCall}) | ${num(tls.stackPeak as number)} |`,
  `| contexts in io_tls.c's own struct: ssl_context ${tls.sslContext}, ssl_config ${tls.sslConfig}, 2 × x509_crt ${tls.x509Crt}, pk ${tls.pkContext} | ${num((tls.sslContext as number) + (tls.sslConfig as number) + 2 * (tls.x509Crt as number) + (tls.pkContext as number))} |`,
  `| static entropy and DRBG (shared by every connection) | ${num((tls.entropy as number) + (tls.ctrDrbg as number))} |`,
] : ['TLS not measured: no mbedTLS for xsrun (apt-get install libmbedtls-dev).'];

const md = `# The device image's RAM by owner

Measured by \`npm run bench:firmware-ram\` (bench/cortex-m-ram.ts) on ${new Date().toISOString().slice(0, 10)}: the device image
(\`hosts/cortex-m/device.ts\`) linked with RAM_SIZE ${num(ramSize)} B on QEMU \`mps2-an500\`, a session against the emulator through
the co-processor link (link, register over HTTPS, connect over MQTT${spoke ? ', a spoken turn ("what time is it", the answer played)' : ''},
a timer rung with the local tone with the network cut), then its last report and the board's exit line. XS figures are at the end
of the session (slots and chunks only grow while it runs, so reserved is also their peak); the link's heap is its peak; newlib's
overhead is the rest of the heap's high-water mark. docs/firmware.md explains each owner.

![RAM by owner](firmware-ram.svg)

${table.join('\n')}

**The session needs ${num(needed)} B (${kb(needed)} KB) of RAM_SIZE**: RAM_SIZE less the heap never reached. ${num(memory.malloc.current)} B
through XS's counting allocator at exit (peak ${num(memory.malloc.peak)}), ${memory.gcCount} collections from boot.

**The machine prepared in flash** (hosts/cortex-m/prepared.c): ${num(image.prepared.bytes)} B of flash hold the realm and every module
of the application, run in place. At boot, before the device makes anything (\`image-memory boot\`), XS holds ${num(boot.memory.slots.current)} slots
in RAM (${kb(boot.memory.slots.current * boot.memory.slots.bytes)} KB: the prelude, the entry module and the copies of the prepared objects they changed, ${num(boot.memory.keys)} keys
of its own) and ${kb(boot.memory.chunks.current)} KB of chunks; XS's malloc is then ${kb(boot.memory.malloc.current)} KB, most of it reserved rather than used (the
slot heap and the chunk block XS is created with, the JS stack).

## TLS, if it ran on the MCU

The image offloads TLS to the co-processor. What it would add, measured on xsrun (the same application, \`hosts/xs/io_tls.c\`,
built with \`hosts/xs/tls_meter.c\`: mbedTLS's calloc and free counted, its calls' stack painted) for a session against the same
emulator (link and register over HTTPS, then MQTT over mutual TLS to mosquitto, whose OpenSSL sends records of up to 16 KB, as
AWS IoT does; the test PKI's keys are P-256, AWS IoT's certificates mostly RSA-2048). Pointers are 8 bytes there, 4 on the M7: the contexts would be smaller,
the record buffers not.

${tlsRows.join('\n')}

Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s of wall time.
`;
const svg = treemapSvg(`The device image's RAM by owner: a session at RAM_SIZE ${kb(ramSize)} KB`, rows,
  { XS: '#8fb3de', 'native state': '#f2b66d', link: '#9fd49a', 'heap overhead': '#d9a3c9', static: '#c9c9a3', stacks: '#e38a8a', free: '#eeeeee' });
console.log(md);
if (!values['no-write']) {
  writeFileSync(fromRoot('docs', 'figures', 'firmware-ram.md'), md);
  writeFileSync(fromRoot('docs', 'figures', 'firmware-ram.svg'), svg);
  console.log('wrote docs/figures/firmware-ram.md and docs/figures/firmware-ram.svg');
}
