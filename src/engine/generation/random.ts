/**
 * xoshiro128** (Blackman and Vigna, 2018; https://prng.di.unimi.it/xoshiro128starstar.c), the
 * sampler's pseudo-random generator: small, fast on 32-bit integer arithmetic, and the same on
 * every platform, so a seed replays a sampled answer exactly. Seeds are expanded into the 128-bit
 * state with SplitMix32 (a 32-bit SplitMix with the hash-prospector finaliser), as the xoshiro
 * authors advise against seeding the state directly.
 */
export class Xoshiro128StarStar {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** The raw 128-bit state, four 32-bit words; not all zero. */
  constructor(state: readonly [number, number, number, number]) {
    [this.#s0, this.#s1, this.#s2, this.#s3] = state.map((word) => word >>> 0) as [
      number,
      number,
      number,
      number,
    ];
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0)
      throw new RangeError('xoshiro128** state must not be all zero');
  }

  /** A generator seeded with an integer in [0, 2^32). */
  static fromSeed(seed: number): Xoshiro128StarStar {
    let counter = seed >>> 0;
    const next = (): number => {
      counter = (counter + 0x9e3779b9) >>> 0;
      let z = counter;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    return new Xoshiro128StarStar([next(), next(), next(), next()]);
  }

  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const shifted = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= shifted;
    this.#s3 = rotateLeft(this.#s3, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
