// Every command prints its usage and every option with --help (exit 0), and a wrong option is one line naming
// it with the hint, exit 2, never a stack trace (issue 21 item 11). Before, --help stopped the emulator and the
// device with ERR_PARSE_ARGS_UNKNOWN_OPTION and a stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fromRoot } from '../support/paths.js';

/** Built script, the name its errors start with, and options its --help must name. */
const COMMANDS: [string, string, string[]][] = [
  ['build/emulator/main.js', 'emulator', ['--data-dir', '--http-port', '--mqtt-port', '--https-cert', '--https-key', '--plain-http', '--trace', '--dashboard-port', '--dashboard-host', '--no-dashboard', '--mqtt-ws-port']],
  ['build/hosts/node/main.js', 'device', ['--cloud', '--mqtt-port', '--mqtt-host', '--client-id', '--account', '--data-dir', '--provision', '--trace', '--ca', '--host', '--say', '--out', '--mic', '--play']],
  ['build/emulator/demo.js', 'start', ['--mic', '--trace']],
  ['build/emulator/make-dev-pki.js', 'dev-pki', ['--out']],
  ['build/hosts/node/tuning/aec.js', 'aec', ['--ref', '--mic', '--out', '--plot']],
  ['build/hosts/node/tuning/wake.js', 'wake', ['--threshold']],
  ['build/hosts/node/tuning/frontend.js', 'frontend', ['--ref', '--mic', '--out', '--threshold']],
  ['build/bench/aec.bench.js', 'bench:aec', ['--taps']],
  ['build/bench/wake-word.bench.js', 'bench:wake-word', ['--repeats', '--near', '--minutes', '--anchor-minutes', '--barge', '--quick']],
  ['build/bench/wake-word-verifier.js', 'wake-word-verifier', ['--positives', '--near', '--minutes', '--threshold']],
  ['build/bench/train-wake-word.js', 'train:wake-word', ['--clips', '--epochs', '--positives', '--negatives', '--out', '--cache']],
  ['build/bench/emulator-load.js', 'bench:emulator-load', ['--devices', '--turns']],
  ['build/bench/voice-latency.js', 'voice-latency', ['--turns']],
  ['build/bench/voice-asr.js', 'voice-asr', ['--quick']],
  ['build/bench/xs-figures.js', 'bench:xs', ['--audio']],
];

const run = (script: string, args: string[]) => spawnSync(process.execPath, [fromRoot(script), ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });

for (const [script, name, options] of COMMANDS) {
  test(`${name} --help prints its usage and every option; an unknown option is one line with the hint`, () => {
    const help = run(script, ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^usage: /);
    for (const option of [...options, '--help']) assert.match(help.stdout, new RegExp(`^\\s+${option}\\b`, 'm'), `${option} in\n${help.stdout}`);
    const wrong = run(script, ['--no-such-option']);
    assert.equal(wrong.status, 2, wrong.stderr);
    assert.equal(wrong.stderr, `${name}: unknown option --no-such-option (see --help)\n`);
    assert.equal(wrong.stdout, '');
  });
}
