import type { ImageGenerationSettings, TextGenerationSettings } from '../engine/index.js';

/** Emu's positions (LLaMA's max_position_embeddings). */
export const emuContextLength = 2048;

/** Positions an image generation takes after the prompt: `[IMG]` and 31 fed `<image>` embeddings. */
export const imageGenerationPositions = 32;

/** The reference's text generation (Emu1/inference.py): beam search over 5 beams. */
export function referenceTextSettings(use: 'answer' | 'video' | 'caption'): TextGenerationSettings {
  return {
    maxNewTokens: use === 'caption' ? 512 : 128,
    numBeams: 5,
    lengthPenalty: use === 'video' ? 1 : 0,
    minLength: 1,
    repetitionPenalty: 1,
  };
}

/**
 * The reference's image generation (Emu1/image_inference.py): 50 PNDM steps. Guidance and size
 * are left to the engine, which takes the drawing model's own (`generation.image` of its bundle:
 * Emu's are the reference's 7.5, 10 in context, and 512x512).
 */
export function referenceImageSettings(seed: number): ImageGenerationSettings {
  return { seed, steps: 50 };
}
