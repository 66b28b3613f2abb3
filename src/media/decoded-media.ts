import type { RgbImage } from '../engine/index.js';

/**
 * An attachment ready for the model, as the pixels module's `readMedia` gives it: one frame for
 * a still image, the reference's 8 frames for an animated image or a video.
 */
export interface DecodedMedia {
  readonly kind: 'image' | 'animation' | 'video';
  readonly frames: readonly RgbImage[];
}
