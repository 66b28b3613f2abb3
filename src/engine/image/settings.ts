import type { Manifest } from '../bundle/index.js';
import type { ImageGenerationSettings, ImageRequest } from '../requests.js';

export interface ResolvedImageSettings extends ImageGenerationSettings {
  readonly guidanceScale: number;
  readonly width: number;
  readonly height: number;
}

/** An image request with every setting decided. */
export interface ResolvedImageRequest extends ImageRequest {
  readonly settings: ResolvedImageSettings;
}

/** The reference's (Emu1/image_inference.py), for bundles that declare no drawing defaults. */
const referenceDefaults = { guidance_scale: 7.5, in_context_guidance_scale: 10, height: 512, width: 512 };

const imagePlaceholders = /\[IMG\][\s\S]*?\[\/IMG\]/gu;

/**
 * Fills what a request leaves out from the bundle's `generation.image`: the model's own guidance
 * scale (its in-context one when the prompt holds images and text, Emu's in-context generation;
 * images alone are a blend) and its native size.
 */
export function resolveImageSettings(request: ImageRequest, manifest: Manifest): ResolvedImageRequest {
  const defaults = manifest.generation.image ?? referenceDefaults;
  const { guidanceScale, width, height } = request.settings;
  const inContext = request.images.length > 0 && request.prompt.replace(imagePlaceholders, '').trim() !== '';
  return {
    ...request,
    settings: {
      ...request.settings,
      guidanceScale:
        guidanceScale ?? (inContext ? defaults.in_context_guidance_scale : defaults.guidance_scale),
      width: width ?? defaults.width,
      height: height ?? defaults.height,
    },
  };
}
