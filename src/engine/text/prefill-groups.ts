/**
 * The largest share of a prefill batch's positions that may be left padding.
 *
 * A batch pads every prompt to its longest, and a prefill's cost grows with the positions it
 * computes (on a CPU it is compute-bound: padding is pure waste, and batching saves only the one
 * read of the weights). Prompts of similar length still share a batch, as GPUs want.
 */
export const MAX_PADDING_SHARE = 0.2;

/**
 * Splits prompts into prefill batches, longest first, each padded by at most
 * `MAX_PADDING_SHARE` of its positions. Each prompt's own result does not depend on its batch.
 */
export function prefillGroups<T>(items: readonly T[], length: (item: T) => number): T[][] {
  const sorted = [...items].sort((left, right) => length(right) - length(left));
  const groups: T[][] = [];
  let group: T[] = [];
  let longest = 0;
  let real = 0;
  for (const item of sorted) {
    const size = length(item);
    const positions = (group.length + 1) * longest;
    if (group.length > 0 && real + size < (1 - MAX_PADDING_SHARE) * positions) {
      groups.push(group);
      group = [];
    }
    if (group.length === 0) {
      longest = size;
      real = 0;
    }
    group.push(item);
    real += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
