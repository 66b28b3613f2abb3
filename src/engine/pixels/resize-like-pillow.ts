import type { RgbImage } from './rgb-image.js';

/**
 * Resizes the way the reference does (`PIL.Image.resize(size)`, Pillow 7 to 9's default
 * antialiased bicubic on an RGB image), reproducing Pillow's arithmetic step for step: the same
 * filter (Keys cubic, a = -0.5) widened by the scale when shrinking, the same window rounding,
 * coefficients in 22-bit fixed point, the horizontal pass first, rounded to 8 bits between passes.
 * The result is byte-identical to Pillow's on the goldens.
 *
 * Why not sharp's resize: measured against Pillow on the goldens, sharp's best kernel ('cubic')
 * is off by up to 0.13 per normalised value when shrinking and 0.9 when enlarging (libvips
 * centres and rounds differently), far outside the 1e-2 the model's parity asks for.
 *
 * Cost is about 12 multiply-adds per input pixel: a 40-megapixel photo takes about a second,
 * a video frame a few milliseconds.
 */
export function resizeLikePillow(image: RgbImage, width: number, height: number): RgbImage {
  const needHorizontal = width !== image.width;
  const needVertical = height !== image.height;
  if (!needHorizontal && !needVertical) return image;
  const vertical = cubicWeights(image.height, height);
  let source = image;
  let firstRow = 0;
  if (needHorizontal) {
    // Pillow resamples horizontally only the rows the vertical pass will read.
    firstRow = vertical.starts[0] ?? 0;
    const lastRow = (vertical.starts[height - 1] ?? 0) + (vertical.counts[height - 1] ?? 0);
    source = resampleHorizontal(image, cubicWeights(image.width, width), firstRow, lastRow);
  }
  return needVertical ? resampleVertical(source, vertical, firstRow) : source;
}

const precisionBits = 32 - 8 - 2;
const fixedOne = 2 ** precisionBits;
const half = 2 ** (precisionBits - 1);
const bicubicSupport = 2;

/** Pillow's bicubic_filter with a = -0.5. */
function bicubic(distance: number): number {
  const x = Math.abs(distance);
  const a = -0.5;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Weights {
  /** Taps per output sample (the stride of `coefficients`). */
  readonly taps: number;
  /** First input sample of each output sample's window. */
  readonly starts: Int32Array;
  /** Window length of each output sample. */
  readonly counts: Int32Array;
  /** Fixed-point coefficients, `taps` per output sample. */
  readonly coefficients: Int32Array;
}

/** Pillow's precompute_coeffs followed by normalize_coeffs_8bpc. */
function cubicWeights(inSize: number, outSize: number): Weights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = bicubicSupport * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const coefficients = new Int32Array(outSize * taps);
  const window = new Float64Array(taps);
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - start;
    let total = 0;
    for (let tap = 0; tap < count; tap++) {
      const weight = bicubic((tap + start - center + 0.5) / filterScale);
      window[tap] = weight;
      total += weight;
    }
    for (let tap = 0; tap < count; tap++) {
      const weight = total === 0 ? (window[tap] ?? 0) : (window[tap] ?? 0) / total;
      coefficients[out * taps + tap] = Math.trunc(
        weight < 0 ? weight * fixedOne - 0.5 : weight * fixedOne + 0.5,
      );
    }
    starts[out] = start;
    counts[out] = count;
  }
  return { taps, starts, counts, coefficients };
}

/** Pillow's clip8: drop the fixed-point fraction (arithmetic shift, so floor) and clamp. */
function clip8(sum: number): number {
  const value = Math.floor(sum / fixedOne);
  return Math.min(Math.max(value, 0), 255);
}

function resampleHorizontal(image: RgbImage, weights: Weights, firstRow: number, lastRow: number): RgbImage {
  const width = weights.starts.length;
  const height = lastRow - firstRow;
  const { taps, starts, counts, coefficients } = weights;
  const input = image.data;
  const output = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const inRow = (row + firstRow) * image.width * 3;
    const outRow = row * width * 3;
    for (let column = 0; column < width; column++) {
      const start = starts[column] ?? 0;
      const count = counts[column] ?? 0;
      const base = column * taps;
      let red = half;
      let green = half;
      let blue = half;
      for (let tap = 0; tap < count; tap++) {
        const weight = coefficients[base + tap] ?? 0;
        const at = inRow + (start + tap) * 3;
        red += (input[at] ?? 0) * weight;
        green += (input[at + 1] ?? 0) * weight;
        blue += (input[at + 2] ?? 0) * weight;
      }
      const to = outRow + column * 3;
      output[to] = clip8(red);
      output[to + 1] = clip8(green);
      output[to + 2] = clip8(blue);
    }
  }
  return { width, height, data: output };
}

/** `firstRow` is where `image` starts in the original's rows (non-zero after a horizontal pass). */
function resampleVertical(image: RgbImage, weights: Weights, firstRow: number): RgbImage {
  const height = weights.starts.length;
  const width = image.width;
  const rowBytes = width * 3;
  const { taps, starts, counts, coefficients } = weights;
  const input = image.data;
  const output = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const start = (starts[row] ?? 0) - firstRow;
    const count = counts[row] ?? 0;
    const base = row * taps;
    for (let byte = 0; byte < rowBytes; byte++) {
      let sum = half;
      for (let tap = 0; tap < count; tap++) {
        sum += (input[(start + tap) * rowBytes + byte] ?? 0) * (coefficients[base + tap] ?? 0);
      }
      output[row * rowBytes + byte] = clip8(sum);
    }
  }
  return { width, height, data: output };
}
