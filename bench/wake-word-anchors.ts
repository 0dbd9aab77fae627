// The anchors the wake-word bench measures beside our detector, on the same audio: PocketSphinx's keyphrase
// spotter (Debian pocketsphinx, "alexa" from its US English model). Each returns where it detected the word
// (the end of the detection, in samples) in one long stream.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPocketsphinx, pocketsphinxMissingHint } from '../emulator/voice/asr.js';
import { wavBytes } from '../hosts/node/wav.js';

export const SAMPLE_RATE = 16000;

/** undefined when pocketsphinx_continuous and the model are here, else one line with the install hint. */
export function keyphraseMissingHint(): string | undefined {
  const hint = pocketsphinxMissingHint();
  if (hint) return hint;
  const run = spawnSync('sh', ['-c', 'command -v pocketsphinx_continuous'], { stdio: 'ignore' });
  return run.status === 0 ? undefined : 'pocketsphinx_continuous not found: apt-get install pocketsphinx pocketsphinx-en-us';
}

/**
 * PocketSphinx keyphrase spotting of "alexa" at `threshold` (its -kws_threshold, 1e-40 … 1: lower finds more)
 * over `samples`: the detections' end samples.
 */
export function pocketsphinxKeyphrase(samples: Int16Array, threshold: number): number[] {
  const paths = findPocketsphinx();
  if (!paths) throw new Error(pocketsphinxMissingHint());
  const dir = mkdtempSync(join(tmpdir(), 'wake-anchor-'));
  try {
    const wav = join(dir, 'stream.wav');
    writeFileSync(wav, wavBytes(samples));
    const run = spawnSync('pocketsphinx_continuous', ['-infile', wav, '-hmm', paths.hmm, '-dict', paths.dict, '-keyphrase', 'alexa',
      '-kws_threshold', threshold.toExponential(), '-time', 'yes', '-logfn', '/dev/null'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`pocketsphinx_continuous failed (status ${run.status}): ${run.stderr.trim().split('\n').pop()}`);
    // With -time yes each detection is a line "alexa START END CONFIDENCE", times in seconds from the stream's start.
    const ends: number[] = [];
    for (const line of run.stdout.split('\n')) {
      const m = /^alexa (\d+\.\d+) (\d+\.\d+) /.exec(line);
      if (m) ends.push(Math.round(Number(m[2]) * SAMPLE_RATE));
    }
    return ends.sort((a, b) => a - b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
