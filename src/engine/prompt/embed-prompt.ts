import { EmuBotError } from '../../core/index.js';
import type { LoadedBundle } from '../bundle/load-bundle.js';
import type { EmbeddingArray } from '../decoding/decoder-pipeline.js';
import { floatsToHalves } from '../onnx/float16.js';
import { type Tensor, tensor } from '../onnx/session.js';

export interface EmbeddedBatch {
  /** [rows, length, hidden], left-padded. */
  readonly inputsEmbeds: EmbeddingArray;
  /** [rows, length]: positions over each row's real tokens (padding gets 1, as Hugging Face does). */
  readonly positionIds: BigInt64Array;
  /** [rows, length]: 1 for real tokens. */
  readonly valid: Uint8Array;
  readonly length: number;
}

/**
 * Normalised images ([3, size, size] each) -> their embeddings [images, imageTokens, hidden], in
 * one vision batch; undefined when there are none.
 */
export async function encodeImages(
  bundle: LoadedBundle,
  images: readonly Float32Array[],
): Promise<EmbeddingArray | undefined> {
  if (images.length === 0) return undefined;
  const size = bundle.manifest.image_preprocessing.size;
  const pixelValues = new Float32Array(images.length * 3 * size * size);
  for (const [index, image] of images.entries()) pixelValues.set(image, index * image.length);
  const dims = [images.length, 3, size, size];
  const input =
    bundle.manifest.dtype === 'float16'
      ? tensor('float16', floatsToHalves(pixelValues), dims)
      : tensor('float32', pixelValues, dims);
  const outputs = await bundle.vision.run({ pixel_values: input });
  return embeddingData(outputs['image_embeds'], bundle.vision.file);
}

/**
 * Token ids per row -> input embeddings, left-padded into one batch, with every `<image>` position
 * taking the next image embedding in order (row by row), as the reference replaces them.
 */
export async function embedPrompts(
  bundle: LoadedBundle,
  rows: readonly (readonly number[])[],
  imageEmbeds: EmbeddingArray | undefined,
): Promise<EmbeddedBatch> {
  const { pad, image } = bundle.manifest.tokens;
  const { hidden_size: hidden, image_tokens: imageTokens } = bundle.manifest.model;
  const length = Math.max(...rows.map((row) => row.length));
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(pad));
  const valid = new Uint8Array(rows.length * length);
  const positionIds = new BigInt64Array(rows.length * length).fill(1n);
  rows.forEach((row, index) => {
    const offset = index * length + (length - row.length);
    row.forEach((id, position) => {
      ids[offset + position] = BigInt(id);
      valid[offset + position] = 1;
      positionIds[offset + position] = BigInt(position);
    });
  });
  const outputs = await bundle.embedTokens.run({ input_ids: tensor('int64', ids, [rows.length, length]) });
  const embeds = embeddingData(outputs['inputs_embeds'], bundle.embedTokens.file);

  const imagePositions = ids.reduce((count, id) => count + (id === BigInt(image) ? 1 : 0), 0);
  const available = imageEmbeds === undefined ? 0 : imageEmbeds.length / hidden;
  if (imagePositions !== available) {
    throw new EmuBotError(
      'INTERNAL',
      `the prompt has ${imagePositions} <image> positions but ${available / imageTokens} image(s) of ${imageTokens} embeddings were given`,
    );
  }
  let next = 0;
  for (let position = 0; position < ids.length; position++) {
    if (ids[position] !== BigInt(image) || imageEmbeds === undefined) continue;
    embeds.set(imageEmbeds.subarray(next * hidden, (next + 1) * hidden), position * hidden);
    next++;
  }
  return { inputsEmbeds: embeds, positionIds, valid, length };
}

function embeddingData(value: Tensor | undefined, file: string): EmbeddingArray {
  if (value === undefined) throw new EmuBotError('INTERNAL', `${file} returned no embeddings`);
  // Copy: the prompt is edited in place, and onnxruntime's output buffers are not ours to keep.
  return value.type === 'float16'
    ? new Uint16Array(value.data as Uint16Array)
    : new Float32Array(value.data as Float32Array);
}
