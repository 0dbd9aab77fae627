// Seeded randomness so that a failing random test can be replayed from its seed.
// Portable (XS loads it beside the *.portable.test.ts files, bench/xs-workload.ts on XS too): imports
// nothing, and reads the environment only where the host has one.

/** A seeded generator of numbers, integers, picks and bytes (xorshift32). */
export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** Uniform in [0, 1). (xorshift32) */
  next(): number {
    let x = this.state;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.state = x;
    return x / 0x1_0000_0000;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
}

/**
 * The seed for a random test: RANDOM_SEED from the environment where there is one (Node), else a fresh one
 * (Date is on every host), printed by the caller in its failure messages.
 */
export function testSeed(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return Number(env?.RANDOM_SEED) || (Date.now() % 0x7fffffff) || 1;
}

/**
 * xorshift32 bytes (the low byte of each state): a reproducible stand-in for a host's random source, in
 * the shape the Crypto port takes (fills `out`). The loop is inline: benches time code that calls it.
 */
export function randomSource(seed: number): (out: Uint8Array) => void {
  let state = seed >>> 0 || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      state ^= state << 13; state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5; state >>>= 0;
      out[i] = state & 0xff;
    }
  };
}
