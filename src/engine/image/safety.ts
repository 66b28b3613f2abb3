import type { LoadedImageDecoder } from '../bundle/index.js';
import { type RgbImage, resizeLikePillow, toPixelValues } from '../pixels/index.js';
import { floats, floatTensor } from './denoise.js';

/** CLIP's normalisation, which the safety checker's feature extractor uses. */
const clipMean: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const clipStd: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const clipSize = 224;

/**
 * The Stable Diffusion safety checker's verdict on one generated image. The graph gives margins
 * (similarity minus threshold) per concept; the decision is the reference's rule: any
 * special-care concept over its threshold lowers every concept threshold by the adjustment, and
 * the image is flagged when any concept is over, each margin rounded to 3 decimals first.
 */
export async function isFlagged(decoder: LoadedImageDecoder, image: RgbImage): Promise<boolean> {
  const input = toPixelValues(centreSquare(image), { size: clipSize, mean: clipMean, std: clipStd });
  const half = decoder.safetyChecker.inputs[0]?.type === 'float16';
  const outputs = await decoder.safetyChecker.run({
    clip_input: floatTensor(input, [1, 3, clipSize, clipSize], half),
  });
  const concepts = floats(outputs['concept_scores'], decoder.safetyChecker.file);
  const specialCare = floats(outputs['special_care_scores'], decoder.safetyChecker.file);
  return flaggedByMargins(concepts, specialCare, decoder.entry.safety_checker.special_care_adjustment);
}

export function flaggedByMargins(
  concepts: Float32Array,
  specialCare: Float32Array,
  adjustmentStep: number,
): boolean {
  let adjustment = 0;
  for (const margin of specialCare) if (round3(margin + adjustment) > 0) adjustment = adjustmentStep;
  return concepts.some((margin) => round3(margin + adjustment) > 0);
}

/** Python's round(x, 3) on the binary value; exact ties, where the two differ, cannot occur here. */
function round3(value: number): number {
  return Number(value.toFixed(3));
}

/** CLIPImageProcessor: shortest side to 224 (bicubic), then the centre 224 x 224. */
function centreSquare(image: RgbImage): RgbImage {
  const scale = clipSize / Math.min(image.width, image.height);
  const width = image.width <= image.height ? clipSize : Math.floor(image.width * scale);
  const height = image.height < image.width ? clipSize : Math.floor(image.height * scale);
  const resized = resizeLikePillow(image, width, height);
  if (width === clipSize && height === clipSize) return resized;
  const left = Math.floor((width - clipSize) / 2);
  const top = Math.floor((height - clipSize) / 2);
  const data = new Uint8Array(clipSize * clipSize * 3);
  for (let row = 0; row < clipSize; row++) {
    const from = ((top + row) * width + left) * 3;
    data.set(resized.data.subarray(from, from + clipSize * 3), row * clipSize * 3);
  }
  return { width: clipSize, height: clipSize, data };
}
