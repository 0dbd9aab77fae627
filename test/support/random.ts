// A seeded generator so that a failing random test can be replayed from its seed.
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

/** The seed for a random test: RANDOM_SEED from the environment, else a fresh one printed by the caller. */
export function testSeed(): number {
  return Number(process.env.RANDOM_SEED) || (Date.now() % 0x7fffffff);
}
