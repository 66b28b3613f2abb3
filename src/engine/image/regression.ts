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
  /** Stops the whole regression between steps: the call rejects with ABORTED. */
  readonly signal?: AbortSignal;
  /**
   * Per prompt, in order: when one fires, that prompt leaves the batch at the next step (its rows
   * leave the cache and later calls) and gets an ABORTED error in its place; the others go on.
   * When every prompt has left, the regression stops.
   */
  readonly signals?: readonly (AbortSignal | undefined)[];
  /** Called after each of the 32 regressed embeddings is known (while any prompt is still in). */
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
 * image_tokens, hidden] as float32, or the ABORTED error of a prompt whose signal fired.
 */
export async function regressImageEmbeddings(
  bundle: LoadedBundle,
  decoder: DecoderPipeline,
  prompts: readonly RegressionPrompt[],
  options: RegressionOptions = {},
): Promise<(Float32Array | EmuBotError)[]> {
  const { tokens, model } = bundle.manifest;
  for (const prompt of prompts) {
    if (prompt.ids.at(-1) !== tokens.img_start) {
      throw new EmuBotError('INTERNAL', 'an image generation prompt must end with [IMG]');
    }
  }
  const hidden = model.hidden_size;
  const total = model.image_tokens;
  const outcomes: (Float32Array | EmuBotError | undefined)[] = prompts.map(() => undefined);
  const cancelledPrompts = (): number[] =>
    prompts.flatMap((_, index) =>
      outcomes[index] === undefined && options.signals?.[index]?.aborted === true ? [index] : [],
    );
  const cancel = (index: number): void => {
    outcomes[index] = new EmuBotError('ABORTED', 'image generation was cancelled between steps', {
      cause: options.signals?.[index]?.reason,
    });
  };
  const stopIfAborted = (): void => {
    if (options.signal?.aborted === true) {
      throw new EmuBotError('ABORTED', 'image generation was cancelled between steps', {
        cause: options.signal.reason,
      });
    }
  };
  stopIfAborted();
  for (const index of cancelledPrompts()) cancel(index);
  const starting = prompts.flatMap((prompt, index) =>
    outcomes[index] === undefined ? [{ prompt, index }] : [],
  );
  if (starting.length === 0) return outcomes as EmuBotError[];

  // Per live cache row: its prompt; rows of cancelled prompts are removed from the cache.
  let rowPrompts = starting.flatMap(({ prompt, index }) => (prompt.guided ? [index, index] : [index]));
  const rows = starting.flatMap(({ prompt }) =>
    prompt.guided ? [prompt.ids, [tokens.bos, tokens.img_start]] : [prompt.ids],
  );
  const images = await encodeImages(
    bundle,
    starting.flatMap(({ prompt }) => prompt.pixelValues),
  );
  const batch = await embedPrompts(bundle, rows, images);
  const regressed = prompts.map((prompt) => new Float32Array((prompt.guided ? 2 : 1) * total * hidden));
  const cache = decoder.createCache();
  cache.addRows(rows.length);
  let output = await decoder.step(cache, {
    inputsEmbeds: batch.inputsEmbeds,
    positionIds: batch.positionIds,
    incomingValid: batch.valid,
    incoming: batch.length,
    keepLogits: 0,
    keepRegressed: 1,
  });
  for (let step = 0; ; step++) {
    rowPrompts.forEach((index, row) => {
      const second = row > 0 && rowPrompts[row - 1] === index ? 1 : 0;
      (regressed[index] as Float32Array).set(
        output.regressed.subarray(row * hidden, (row + 1) * hidden),
        (second * total + step) * hidden,
      );
    });
    options.onStep?.(step + 1, total);
    if (step + 1 === total) break;
    stopIfAborted();
    const leaving = new Set(cancelledPrompts());
    let fed = output.regressed;
    if (leaving.size > 0) {
      for (const index of leaving) cancel(index);
      const kept = rowPrompts.flatMap((index, row) => (leaving.has(index) ? [] : [row]));
      if (kept.length === 0) break;
      const keptEmbeddings = new Float32Array(kept.length * hidden);
      kept.forEach((row, at) => {
        keptEmbeddings.set(output.regressed.subarray(row * hidden, (row + 1) * hidden), at * hidden);
      });
      cache.reorder(kept);
      rowPrompts = kept.map((row) => rowPrompts[row] as number);
      fed = keptEmbeddings;
    }
    output = await decoder.step(cache, {
      inputsEmbeds: (decoder.ioType === 'float16' ? floatsToHalves(fed) : fed) as EmbeddingArray,
      positionIds: BigInt64Array.from(rowPrompts, (_, row) => BigInt(cache.tokens(row))),
      incomingValid: new Uint8Array(rowPrompts.length).fill(1),
      incoming: 1,
      keepLogits: 0,
      keepRegressed: 1,
    });
  }
  return prompts.map((_, index) => outcomes[index] ?? (regressed[index] as Float32Array));
}
