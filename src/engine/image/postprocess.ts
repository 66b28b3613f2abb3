import type { RgbImage } from '../pixels/index.js';

/**
 * The VAE's image [3, height, width] in about [-1, 1] to 8-bit RGB as the reference does:
 * (x / 2 + 0.5) clamped to [0, 1], times 255, rounded half to even (numpy's round).
 */
export function toRgbImage(decoded: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let pixel = 0; pixel < plane; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      const unit = Math.min(1, Math.max(0, (decoded[channel * plane + pixel] as number) / 2 + 0.5));
      data[pixel * 3 + channel] = roundHalfToEven(Math.fround(unit * 255));
    }
  }
  return { width, height, data };
}

function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}
