/** The reference feeds every video to the model as this many frames. */
export const referenceFrameCount = 8;

/**
 * The frames the reference picks out of `frameCount` (its utils.get_index): segments of
 * (frameCount - 1) / 8, starting half a segment in (truncated), each offset rounded the way numpy
 * rounds, halves to even. With 693 frames the offsets 86.5 and 432.5 go down and 259.5 and 605.5
 * go up, so ordinary rounding would pick different frames.
 */
export function referenceFrameIndices(frameCount: number, segments: number = referenceFrameCount): number[] {
  if (!Number.isInteger(frameCount) || frameCount < 1) {
    throw new RangeError(`frameCount must be a positive integer, got ${frameCount}`);
  }
  const segment = (frameCount - 1) / segments;
  const start = Math.trunc(segment / 2);
  return Array.from({ length: segments }, (_, index) => start + roundHalfToEven(segment * index));
}

/** numpy.round with no decimals: the nearest integer, and the even one of two at a tie. */
export function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
