import { describe, expect, it } from 'vitest';
import { MAX_PADDING_SHARE, prefillGroups } from '../../../src/engine/text/prefill-groups.js';

const byLength = (lengths: number[]) => prefillGroups(lengths, (length) => length);

function paddingShare(group: number[]): number {
  const longest = Math.max(...group);
  const real = group.reduce((sum, length) => sum + length, 0);
  return 1 - real / (group.length * longest);
}

describe('prefillGroups', () => {
  it('keeps prompts of similar length in one batch', () => {
    expect(byLength([60, 64, 58, 62])).toEqual([[64, 62, 60, 58]]);
  });

  it('splits prompts whose padding would exceed the limit, longest first', () => {
    const groups = byLength([40, 49, 58, 67, 76, 85, 94, 103]);
    expect(groups).toEqual([
      [103, 94, 85, 76, 67],
      [58, 49, 40],
    ]);
    for (const group of groups) expect(paddingShare(group)).toBeLessThanOrEqual(MAX_PADDING_SHARE);
    // One batch would have padded 30% of its positions.
    expect(paddingShare([103, 94, 85, 76, 67, 58, 49, 40])).toBeGreaterThan(MAX_PADDING_SHARE);
  });

  it('gives a very long prompt a batch of its own', () => {
    expect(byLength([10, 500, 12])).toEqual([[500], [12, 10]]);
  });

  it('loses and repeats no prompt', () => {
    const lengths = Array.from({ length: 40 }, (_, index) => 5 + ((index * 37) % 97));
    const groups = byLength(lengths);
    expect(groups.flat().sort((a, b) => a - b)).toEqual([...lengths].sort((a, b) => a - b));
    for (const group of groups) expect(paddingShare(group)).toBeLessThanOrEqual(MAX_PADDING_SHARE);
  });

  it('returns no batch for no prompt', () => {
    expect(byLength([])).toEqual([]);
  });
});
