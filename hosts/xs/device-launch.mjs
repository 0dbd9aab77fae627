// Runs the device application on xsrun (hosts/xs/device.ts): builds xsrun, precompiles the device's module
// graph into one bundle (the device path: bytecode, parser off) and starts it. Used by `npm run device --
// --host xs` (hosts/node/main.ts), test/xs/device.test.ts and bench/xs-device.ts. Needs `npm run build` first.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildXsrun, root, xsrunPath } from './build.mjs';
import { moduleGraph, writeMap } from './modules.mjs';

export const DEVICE_ENTRY = 'build/hosts/xs/device.js';
const MAP = 'build/xs/device.map';
const BUNDLE = 'build/xs/device.xsb';
// MCU creation settings (docs/xs-host.md), with the JS stack the portable crypto needs under load (1024 slots).
export const DEVICE_MACHINE = ['--stack', '1024'];

/** Builds xsrun and the device bundle; returns the bytecode per module ({key, code, symbols} in bytes). */
export async function prepareXsDevice({ quiet = true } = {}) {
  await buildXsrun({ quiet });
  const graph = moduleGraph([DEVICE_ENTRY]);
  writeMap(join(root, MAP), graph.aliases);
  const compiled = spawnSync(xsrunPath, ['--map', MAP, '--compile', BUNDLE, ...graph.keys], { cwd: root, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`precompiling the device failed: ${compiled.stderr}`);
  return compiled.stdout.trim().split('\n').map((line) => {
    const [key, code, symbols] = line.split('\t');
    return { key, code: Number(code.split(' ')[1]), symbols: Number(symbols.split(' ')[1]) };
  });
}

/**
 * Starts the device on xsrun with `config` (a DeviceConfig: JSON-serialisable, TLS material as PEM text)
 * and its store in `dataDir` (an absolute path). With `voice` it has audio (WAV-file drivers, libopus) and
 * takes `tap` and `say PATH` lines on stdin; `voice.out` records its speaker to that WAV. `binary` runs another
 * build of xsrun (build/xs/xsrun-tls-meter measures TLS). Returns the child process; stdin, stdout and stderr are piped.
 */
export function spawnXsDevice({ config, dataDir, logLevel = 'info', memory = false, machine = DEVICE_MACHINE, voice, binary = xsrunPath }) {
  if (!dataDir.startsWith('/')) throw new TypeError(`dataDir must be an absolute path, got ${dataDir}`);
  const args = [...machine, '--bundle', BUNDLE, DEVICE_ENTRY, JSON.stringify(config), dataDir, logLevel];
  if (memory) args.push('--memory');
  if (voice) args.push('--voice');
  if (voice?.out) args.push('--out', voice.out);
  return spawn(binary, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
}

export const MBEDTLS_INSTALL_HINT = 'apt-get install libmbedtls-dev, then npm run build:xs';

/** Why xsrun has no TLS socket (no mbedTLS headers for its build), or undefined when it has one. */
export function mbedtlsMissingHint() {
  const probe = spawnSync(process.env.CC || 'cc', ['-E', '-x', 'c', '-'], { input: '#include <mbedtls/ssl.h>\n', encoding: 'utf8' });
  return probe.status === 0 ? undefined : `mbedTLS not found for xsrun's TLS socket: ${MBEDTLS_INSTALL_HINT}`;
}
