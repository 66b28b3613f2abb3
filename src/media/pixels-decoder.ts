import { type MediaLimits, readMedia, resizeLikePillow } from '../engine/index.js';
import type { DecodedMedia } from './decoded-media.js';
import type { MediaDecoder } from './load-attachments.js';

/** Emu's vision input: 224x224 (the bundle manifest's image_preprocessing.size). */
export const emuImageSize = 224;

/**
 * The pixels module as a MediaDecoder: the format decided by content, every limit of the `media`
 * configuration checked, and each frame resized as the reference resizes (straight to
 * size x size, Pillow's bicubic), so requests carry small model-ready images.
 */
export function createPixelsDecoder(limits: MediaLimits, size = emuImageSize): MediaDecoder {
  return {
    async decode(bytes: Uint8Array, signal?: AbortSignal): Promise<DecodedMedia> {
      const media = await readMedia(bytes, limits, signal);
      return { kind: media.kind, frames: media.frames.map((frame) => resizeLikePillow(frame, size, size)) };
    },
  };
}
