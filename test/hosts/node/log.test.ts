import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LineSink, loggerFromEnv } from '../../../hosts/node/log.js';

const fixedNow = () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));

function capture(): { lines: string[]; sink: LineSink } {
  const lines: string[] = [];
  return { lines, sink: new LineSink({ writeLine: (line) => lines.push(line), now: fixedNow }) };
}

test('each event is one line: ISO time, upper-case level, component in brackets, message', () => {
  const { lines, sink } = capture();
  const log = loggerFromEnv('mqtt', { LOG_LEVEL: 'debug' }, sink);
  log.debug('connecting');
  log.child('ais.speaker').warn('buffer underrun at offset 640');
  assert.deepEqual(lines, [
    '2024-01-02T03:04:05.678Z DEBUG [mqtt] connecting\n',
    '2024-01-02T03:04:05.678Z WARN [ais.speaker] buffer underrun at offset 640\n',
  ]);
});

test('a message with newlines stays on one line', () => {
  const { lines, sink } = capture();
  sink.write('error', 'app', 'first\nsecond\r\nthird');
  assert.deepEqual(lines, ['2024-01-02T03:04:05.678Z ERROR [app] first\\nsecond\\nthird\n']);
});

test('LOG_LEVEL picks the level, info when unset or empty, any case', () => {
  const { lines, sink } = capture();
  assert.equal(loggerFromEnv('a', {}, sink).level, 'info');
  assert.equal(loggerFromEnv('a', { LOG_LEVEL: '' }, sink).level, 'info');
  assert.equal(loggerFromEnv('a', { LOG_LEVEL: 'WARN' }, sink).level, 'warn');
  const log = loggerFromEnv('a', { LOG_LEVEL: 'warn' }, sink);
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(lines.map((line) => line.slice(25)), ['WARN [a] w\n', 'ERROR [a] e\n']);
});

test('an unknown LOG_LEVEL throws, naming the accepted values', () => {
  assert.throws(() => loggerFromEnv('a', { LOG_LEVEL: 'verbose' }), {
    name: 'RangeError', message: 'LOG_LEVEL must be one of debug|info|warn|error, got "verbose"',
  });
});

test('the default sink writes to stderr and nothing to stdout', () => {
  const logModule = fileURLToPath(new URL('../../../hosts/node/log.js', import.meta.url));
  const script = `import(${JSON.stringify(logModule)}).then((m) => m.loggerFromEnv('boot').info('hello'))`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO \[boot\] hello\n$/);
});
