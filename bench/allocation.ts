// Allocation figures on Node for the benches (audio-path, mqtt-codec): bytes allocated per call of a body,
// read from the young generation in windows that no garbage collection ran in. Needs gc exposed and a
// semi-space large enough for a window: rerunWithGc() restarts the bench with both.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** Unless gc is exposed, runs the bench at `url` (its import.meta.url) again with it and exits with its status. */
export function rerunWithGc(url: string): void {
  if (typeof globalThis.gc === 'function') return;
  const run = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=256', fileURLToPath(url)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

// V8 keeps typed-array backing stores outside the JS heap, so allocation = heap growth + ArrayBuffer memory growth.
const allocated = () => getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
// A window counts only if no collection ran in it (a scavenge would hide allocation): GCs are observed through
// perf_hooks 'gc' entries, delivered after a turn of the event loop. Observed from the first measurement on.
let collections = 0;
let observer: PerformanceObserver | undefined;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Bytes allocated per call of `body`: the least of `windows` windows with no garbage collection in them,
 * out of at most `attempts`.
 */
export async function bytesPerCall(calls: number, body: () => void, { windows = 1, attempts = 10 } = {}): Promise<number> {
  if (!observer) {
    observer = new PerformanceObserver((list) => { collections += list.getEntries().length; });
    observer.observe({ entryTypes: ['gc'] });
  }
  let least = Infinity;
  let clean = 0;
  for (let attempt = 0; attempt < attempts && clean < windows; attempt++) {
    globalThis.gc!();
    await settle();
    const seen = collections;
    const before = allocated();
    for (let i = 0; i < calls; i++) body();
    const grown = allocated() - before;
    await settle();
    if (collections !== seen) continue;
    clean++;
    least = Math.min(least, Math.max(0, grown / calls));
  }
  if (clean === 0) throw new Error('every window saw a garbage collection; the allocation figure cannot be measured');
  return least;
}
