import { describe, expect, it } from 'vitest';
import { Xoshiro128StarStar } from '../../../src/engine/generation/index.js';

describe('Xoshiro128StarStar', () => {
  it("matches the C reference's output for a known state", () => {
    // State and outputs from xoshiro128starstar.c, as recorded in edorfaus/xoshiro-6502's test data.
    const generator = new Xoshiro128StarStar([0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0]);
    expect(Array.from({ length: 4 }, () => generator.nextUint32())).toEqual([
      0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70,
    ]);
  });

  it('replays a seed and separates neighbouring seeds', () => {
    const draw = (seed: number) => {
      const generator = Xoshiro128StarStar.fromSeed(seed);
      return Array.from({ length: 8 }, () => generator.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0).every((value) => value === 0)).toBe(false);
  });

  it('draws floats in [0, 1) with a plausible mean', () => {
    const generator = Xoshiro128StarStar.fromSeed(7);
    const values = Array.from({ length: 20_000 }, () => generator.nextFloat());
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });

  it('refuses the all-zero state, which would stay zero forever', () => {
    expect(() => new Xoshiro128StarStar([0, 0, 0, 0])).toThrow(RangeError);
  });
});
