import { EmuBotError } from '../../core/index.js';
import type { LoadedBundle } from '../bundle/index.js';
import type { DecoderPipeline, EmbeddingArray } from '../decoding/decoder-pipeline.js';
import { floatsToHalves } from '../onnx/float16.js';
import { embedPrompts, encodeImages } from '../prompt/embed-prompt.js';

export interface RegressionPrompt {
  /** Token ids with BOS, ending with `[IMG]`. */
  readonly ids: readonly number[];
  /** Normalised [3, size, size] per image, in placeholder order. */
  readonly pixelValues: readonly Float32Array[];
  /** Adds the unconditional branch (the empty prompt, `BOS [IMG]`) as a second row. */
  readonly guided: boolean;
}

export interface RegressionOptions {
  readonly signal?: AbortSignal;
  /** Called after each of the 32 regressed embeddings is known. */
  readonly onStep?: (step: number, total: number) => void;
}

/**
 * Emu's visual regression with the KV cache: the final-norm hidden state at `[IMG]` through
 * `stu_regress_head` gives the first embedding, which is fed as the next position's input, and so
 * on to `image_tokens` embeddings: one prefill and (image_tokens - 1) one-token steps, where the
 * reference recomputes the whole sequence every time. Causality makes the two equal. Several
 * requests, and each request's unconditional row, share every decoder call.
 *
 * Returns per prompt its rows' embeddings, [rows (1, or 2 when guided: conditional first),
 * image_tokens, hidden] as float32.
 */
export async function regressImageEmbeddings(
  bundle: LoadedBundle,
  decoder: DecoderPipeline,
  prompts: readonly RegressionPrompt[],
  options: RegressionOptions = {},
): Promise<Float32Array[]> {
  const { tokens, model } = bundle.manifest;
  for (const prompt of prompts) {
    if (prompt.ids.at(-1) !== tokens.img_start) {
      throw new EmuBotError('INTERNAL', 'an image generation prompt must end with [IMG]');
    }
  }
  const rows = prompts.flatMap((prompt) =>
    prompt.guided ? [prompt.ids, [tokens.bos, tokens.img_start]] : [prompt.ids],
  );
  const images = await encodeImages(
    bundle,
    prompts.flatMap((prompt) => prompt.pixelValues),
  );
  const batch = await embedPrompts(bundle, rows, images);

  const hidden = model.hidden_size;
  const total = model.image_tokens;
  const regressed = rows.map(() => new Float32Array(total * hidden));
  const cache = decoder.createCache();
  cache.addRows(rows.length);
  let output = await decoder.step(cache, {
    inputsEmbeds: batch.inputsEmbeds,
    positionIds: batch.positionIds,
    incomingValid: batch.valid,
    incoming: batch.length,
    keepLast: 1,
  });
  for (let step = 0; ; step++) {
    rows.forEach((_, row) => {
      (regressed[row] as Float32Array).set(
        output.regressed.subarray(row * hidden, (row + 1) * hidden),
        step * hidden,
      );
    });
    options.onStep?.(step + 1, total);
    if (step + 1 === total) break;
    if (options.signal?.aborted === true) {
      throw new EmuBotError('ABORTED', 'image generation was cancelled between steps', {
        cause: options.signal.reason,
      });
    }
    const fed = decoder.ioType === 'float16' ? floatsToHalves(output.regressed) : output.regressed;
    output = await decoder.step(cache, {
      inputsEmbeds: fed as EmbeddingArray,
      positionIds: BigInt64Array.from(rows, (_, row) => BigInt(cache.tokens(row))),
      incomingValid: new Uint8Array(rows.length).fill(1),
      incoming: 1,
      keepLast: 1,
    });
  }
  const perPrompt: Float32Array[] = [];
  let row = 0;
  for (const prompt of prompts) {
    const count = prompt.guided ? 2 : 1;
    const joined = new Float32Array(count * total * hidden);
    for (let index = 0; index < count; index++)
      joined.set(regressed[row + index] as Float32Array, index * total * hidden);
    perPrompt.push(joined);
    row += count;
  }
  return perPrompt;
}
