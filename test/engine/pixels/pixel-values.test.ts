import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  type RgbImage,
  resizeLikePillow,
  toPixelValues,
} from '../../../src/engine/pixels/index.js';
import { clipSpec, fixture, generousLimits, goldenBytes, goldens } from './fixtures.js';

/** The reference's normalisation of its 224x224 bytes, in float64 as numpy does it, then float32. */
function referencePixelValues(golden: Uint8Array): Float32Array {
  const plane = clipSpec.size * clipSpec.size;
  const values = new Float32Array(plane * 3);
  for (let pixel = 0; pixel < plane; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      const byte = golden[pixel * 3 + channel] ?? 0;
      values[channel * plane + pixel] =
        (byte / 255 - (clipSpec.mean[channel] ?? 0)) / (clipSpec.std[channel] ?? 1);
    }
  }
  return values;
}

function errors(actual: Float32Array, expected: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let index = 0; index < expected.length; index++) {
    const error = Math.abs((actual[index] ?? Number.NaN) - (expected[index] ?? Number.NaN));
    max = Math.max(max, error);
    sum += error;
  }
  return { max, mean: sum / expected.length };
}

describe('toPixelValues against the reference preprocessing (Pillow bicubic, CLIP normalisation)', () => {
  it.each(goldens.stills.map((still) => [still.file, still.golden]))(
    '%s is within 1e-2',
    async (file, golden) => {
      const values = toPixelValues(await decodeImage(fixture(file), generousLimits), clipSpec);
      expect(values).toHaveLength(3 * 224 * 224);
      const { max, mean } = errors(values, referencePixelValues(goldenBytes(golden)));
      // Measured: 0 for every fixture (the resize reproduces Pillow's arithmetic byte for byte).
      expect(max).toBeLessThanOrEqual(1e-2);
      expect(mean).toBeLessThanOrEqual(1e-3);
    },
  );

  it('lays values out channel by channel', () => {
    const red: RgbImage = { width: 1, height: 1, data: new Uint8Array([255, 0, 0]) };
    const values = toPixelValues(red, { ...clipSpec, size: 2 });
    const [meanRed, meanGreen] = clipSpec.mean;
    const [stdRed, stdGreen] = clipSpec.std;
    expect([...values.subarray(0, 4)]).toEqual(Array(4).fill(Math.fround((1 - meanRed) / stdRed)));
    expect([...values.subarray(4, 8)]).toEqual(Array(4).fill(Math.fround((0 - meanGreen) / stdGreen)));
  });
});

describe('resizeLikePillow', () => {
  it('returns the same image when the size does not change', () => {
    const image: RgbImage = { width: 2, height: 1, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect(resizeLikePillow(image, 2, 1)).toBe(image);
  });

  it('keeps a flat colour flat when shrinking and enlarging (weights sum to one)', () => {
    const flat: RgbImage = { width: 37, height: 23, data: new Uint8Array(37 * 23 * 3).fill(200) };
    for (const [width, height] of [
      [5, 4],
      [224, 224],
      [37, 3],
    ] as const) {
      const resized = resizeLikePillow(flat, width, height);
      expect(resized.data).toHaveLength(width * height * 3);
      expect(new Set(resized.data)).toEqual(new Set([200]));
    }
  });

  // Expected bytes printed by Pillow 9.4: Image.fromarray(array).resize((width, height)).
  it('enlarges a hard edge exactly as Pillow does', () => {
    const edge: RgbImage = {
      width: 4,
      height: 1,
      data: new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]),
    };
    const red = [...resizeLikePillow(edge, 10, 1).data].filter((_, index) => index % 3 === 0);
    expect(red).toEqual([0, 0, 0, 0, 66, 189, 255, 255, 255, 255]);
  });

  it('shrinks both ways exactly as Pillow does', () => {
    const data = Uint8Array.from({ length: 7 * 3 * 3 }, (_, index) => (index * 11) % 256);
    const shrunk = resizeLikePillow({ width: 7, height: 3, data }, 3, 2);
    expect([...shrunk.data]).toEqual([
      46, 57, 73, 88, 99, 110, 166, 177, 188, 156, 167, 106, 56, 67, 70, 131, 142, 154,
    ]);
  });
});
