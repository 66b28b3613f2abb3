import { describe, expect, it } from 'vitest';
import {
  Sampler,
  type SamplingParameters,
  Xoshiro128StarStar,
} from '../../../src/engine/generation/index.js';

/** Logits whose softmax is the given probabilities. */
function logitsOf(probabilities: readonly number[]): Float32Array {
  return Float32Array.from(probabilities, (p) => (p === 0 ? Number.NEGATIVE_INFINITY : Math.log(p)));
}

function histogram(parameters: SamplingParameters, logits: Float32Array, draws: number, seed = 1): number[] {
  const sampler = new Sampler(parameters, seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let draw = 0; draw < draws; draw += 1) {
    const token = sampler.sample(logits.slice());
    counts[token] = (counts[token] ?? 0) + 1;
  }
  return counts;
}

/** transformers 4.29's TopPLogitsWarper, literally: sort ascending, cut while the cumulative mass is at most 1 - p. */
function nucleusBySorting(logits: Float32Array, topP: number): Set<number> {
  const max = Math.max(...logits);
  const weights = Array.from(logits, (value) => Math.exp(value - max));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const ascending = weights.map((weight, token) => ({ weight, token })).sort((a, b) => a.weight - b.weight);
  const kept = new Set<number>();
  let cumulative = 0;
  ascending.forEach(({ weight, token }, rank) => {
    cumulative += weight / total;
    if (cumulative > 1 - topP || rank === ascending.length - 1) kept.add(token);
  });
  return kept;
}

const plain = { temperature: 1, topK: 0, topP: 1 };
const probabilities = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04];

describe('Sampler', () => {
  it('gives the same tokens for the same seed and different ones for another', () => {
    const logits = logitsOf(probabilities);
    const draw = (seed: number) => {
      const sampler = new Sampler(plain, seed);
      return Array.from({ length: 50 }, () => sampler.sample(logits.slice()));
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
  });

  it('follows the distribution without warpers', () => {
    const counts = histogram(plain, logitsOf(probabilities), 40_000);
    counts.forEach((count, token) => {
      expect(Math.abs(count / 40_000 - (probabilities[token] ?? 0))).toBeLessThan(0.01);
    });
  });

  it('top-k keeps exactly the k most likely tokens', () => {
    const counts = histogram({ ...plain, topK: 2 }, logitsOf(probabilities), 20_000);
    expect(counts.slice(2).every((count) => count === 0)).toBe(true);
    expect(Math.abs((counts[0] ?? 0) / 20_000 - 0.4 / 0.65)).toBeLessThan(0.015);
  });

  it('top-k keeps tokens tied with the k-th, as 4.29 does', () => {
    const counts = histogram({ ...plain, topK: 1 }, logitsOf([0.45, 0.45, 0.1]), 4000);
    expect((counts[0] ?? 0) > 0 && (counts[1] ?? 0) > 0).toBe(true);
    expect(counts[2]).toBe(0);
  });

  it('top-p keeps the smallest set of likely tokens that reaches p', () => {
    // 0.4 + 0.25 = 0.65 < 0.7, so 0.15 is needed too; 0.1 and below are cut.
    const counts = histogram({ ...plain, topP: 0.7 }, logitsOf(probabilities), 20_000);
    expect(counts.slice(0, 3).every((count) => count > 0)).toBe(true);
    expect(counts.slice(3).every((count) => count === 0)).toBe(true);
  });

  it('top-p over a large vocabulary draws only what a full sort would keep', () => {
    const generator = Xoshiro128StarStar.fromSeed(3);
    const logits = Float32Array.from({ length: 1000 }, () => 12 * generator.nextFloat() ** 4);
    const topP = 0.6;
    const drawn = histogram({ ...plain, topP }, logits, 1000);
    const allowed = nucleusBySorting(logits, topP);
    const outside = drawn.flatMap((count, token) => (count > 0 && !allowed.has(token) ? [token] : []));
    expect(outside).toEqual([]);
    const max = Math.max(...logits);
    const total = logits.reduce((sum, value) => sum + Math.exp(value - max), 0);
    const likely = [...allowed].filter((token) => Math.exp((logits[token] ?? 0) - max) / total > 0.02);
    expect(likely.length).toBeGreaterThan(3);
    expect(likely.filter((token) => drawn[token] === 0)).toEqual([]);
  });

  it('top-p keeps at least the most likely token', () => {
    const counts = histogram({ ...plain, topP: 0.01 }, logitsOf(probabilities), 2000);
    expect(counts[0]).toBe(2000);
  });

  it('combines top-k and top-p in 4.29 order (top-p over the top-k renormalised)', () => {
    // Among the top 3 (0.4, 0.25, 0.15 renormalised to 0.5, 0.3125, 0.1875), p = 0.75 needs two.
    const counts = histogram({ ...plain, topK: 3, topP: 0.75 }, logitsOf(probabilities), 10_000);
    expect(counts.slice(0, 2).every((count) => count > 0)).toBe(true);
    expect(counts.slice(2).every((count) => count === 0)).toBe(true);
  });

  it('sharpens with a low temperature and flattens with a high one', () => {
    const logits = logitsOf(probabilities);
    const cold = histogram({ ...plain, temperature: 0.05 }, logits, 5000);
    const hot = histogram({ ...plain, temperature: 20 }, logits, 30_000);
    expect(cold[0]).toBe(5000);
    hot.forEach((count) => {
      expect(Math.abs(count / 30_000 - 1 / 6)).toBeLessThan(0.02);
    });
  });

  it('never draws a token whose logit is -Infinity (blocked EOS)', () => {
    const counts = histogram(plain, logitsOf([0.5, 0, 0.5]), 5000);
    expect(counts[1]).toBe(0);
  });
});
