import { describe, expect, it } from 'vitest';
import { referenceFrameIndices, roundHalfToEven } from '../../../src/engine/pixels/index.js';
import { goldens } from './fixtures.js';

describe('referenceFrameIndices', () => {
  it.each(Object.entries(goldens.referenceIndexCases))(
    'matches the reference get_index for %s frames',
    (count, indices) => {
      expect(referenceFrameIndices(Number(count))).toEqual(indices);
    },
  );

  it("picks AppleVR.mp4's frames, where rounding halves up would differ", () => {
    // 693 frames: offsets 86.5 and 432.5 round down to even, 259.5 and 605.5 up.
    expect(referenceFrameIndices(693)).toEqual([43, 129, 216, 303, 389, 475, 562, 649]);
  });

  it('repeats frames when there are fewer than eight', () => {
    expect(referenceFrameIndices(1)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(referenceFrameIndices(3)).toEqual([0, 0, 0, 1, 1, 1, 2, 2]);
  });

  it('refuses counts that are not positive integers', () => {
    expect(() => referenceFrameIndices(0)).toThrow(RangeError);
    expect(() => referenceFrameIndices(2.5)).toThrow(RangeError);
  });
});

describe('roundHalfToEven', () => {
  it('rounds like numpy.round', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfToEven)).toEqual([
      0, 2, 2, 4, 0, -2, 2, 3,
    ]);
  });
});
