import { resizeLikePillow } from './resize-like-pillow.js';
import type { PixelSpec, RgbImage } from './rgb-image.js';

/**
 * The vision encoder's input for one image, as the reference computes it: resized straight to
 * `size` x `size` (aspect ratio not kept, no crop), each byte / 255, minus the channel mean, over
 * the channel std, laid out channel by channel (CHW). The arithmetic is float64, like numpy's,
 * and only the result is float32, like the reference's `.to(torch.float)`.
 */
export function toPixelValues(image: RgbImage, spec: PixelSpec): Float32Array {
  const { size, mean, std } = spec;
  const resized = resizeLikePillow(image, size, size);
  const plane = size * size;
  const values = new Float32Array(plane * 3);
  for (let channel = 0; channel < 3; channel++) {
    // One table per channel: 256 possible bytes, each normalised once.
    const table = new Float32Array(256);
    const channelMean = mean[channel] ?? 0;
    const channelStd = std[channel] ?? 1;
    for (let byte = 0; byte < 256; byte++) table[byte] = (byte / 255 - channelMean) / channelStd;
    for (let pixel = 0; pixel < plane; pixel++) {
      values[channel * plane + pixel] = table[resized.data[pixel * 3 + channel] ?? 0] ?? 0;
    }
  }
  return values;
}
