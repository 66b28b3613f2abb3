import { describe, expect, it } from 'vitest';
import { RegressionCache } from '../../../src/engine/image/regression-cache.js';

const prompt = { ids: [1, 5, 9], pixelValues: [new Float32Array([0.5, -0.5])], guided: true };

describe('RegressionCache', () => {
  it('keys prompts by their tokens, pixels and guidance', () => {
    const key = RegressionCache.key(prompt);
    expect(RegressionCache.key({ ...prompt, pixelValues: [new Float32Array([0.5, -0.5])] })).toBe(key);
    expect(RegressionCache.key({ ...prompt, ids: [1, 5, 10] })).not.toBe(key);
    expect(RegressionCache.key({ ...prompt, guided: false })).not.toBe(key);
    expect(RegressionCache.key({ ...prompt, pixelValues: [new Float32Array([0.5, -0.25])] })).not.toBe(key);
    // The same numbers split differently between images are different prompts.
    expect(
      RegressionCache.key({ ...prompt, pixelValues: [new Float32Array([0.5]), new Float32Array([-0.5])] }),
    ).not.toBe(key);
  });

  it('lets the least recently used entries go once its bytes are spent', () => {
    const cache = new RegressionCache(3 * 16);
    for (const key of ['a', 'b', 'c']) cache.set(key, new Float32Array(4));
    expect(cache.get('a')).toBeDefined();
    cache.set('d', new Float32Array(4));
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')].every((entry) => entry !== undefined)).toBe(true);
    cache.set('e', new Float32Array(8));
    expect(cache.size).toBe(2);
    expect(cache.get('d')).toBeDefined();
    cache.set('huge', new Float32Array(100));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});
