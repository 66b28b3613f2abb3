import { EmuBotError } from '../../core/index.js';
import type { LoadedImageDecoder } from '../bundle/index.js';
import { floatsToHalves, halvesToFloats } from '../onnx/float16.js';
import { type Tensor, tensor } from '../onnx/session.js';
import type { Scheduler } from './schedulers/index.js';

export interface DenoiseInput {
  /** [rows, image_tokens, hidden]: the conditional row, then the unconditional one when guided. */
  readonly embeddings: Float32Array;
  readonly rows: 1 | 2;
  readonly guidanceScale: number;
  /** [latent_channels, latent_height, latent_width], standard normal. */
  readonly initialNoise: Float32Array;
  readonly latentHeight: number;
  readonly latentWidth: number;
  readonly scheduler: Scheduler;
}

export interface DenoiseOptions {
  readonly signal?: AbortSignal;
  /** After each UNet call, with the latents so far (read-only). */
  readonly onStep?: (step: number, total: number, latents: Float32Array) => void;
}

/** One request's share of a batched denoising run. */
export interface DenoiseItem extends DenoiseInput, DenoiseOptions {}

/**
 * The diffusion loop as Emu's pipeline runs it: one UNet call per scheduler timestep, with
 * guidance the same latents twice as a batch [cond, uncond] whose noise predictions combine as
 * `uncond + scale * (cond - uncond)`; the scheduler turns each prediction into the next latents.
 */
export async function denoise(
  decoder: LoadedImageDecoder,
  input: DenoiseInput,
  options: DenoiseOptions = {},
): Promise<Float32Array> {
  const [outcome] = await denoiseTogether(decoder, [{ ...input, ...options }]);
  if (outcome instanceof EmuBotError) throw outcome;
  return outcome as Float32Array;
}

/**
 * Several requests' denoising in one UNet batch per timestep: each request contributes its rows
 * (two when guided) and steps its own scheduler, so it gets what it would get alone. The requests
 * must share the latent size and the timesteps. A request whose signal fires leaves the batch
 * between steps and gets an ABORTED error in its place; the others go on.
 */
export async function denoiseTogether(
  decoder: LoadedImageDecoder,
  items: readonly DenoiseItem[],
): Promise<(Float32Array | EmuBotError)[]> {
  const first = items[0];
  if (first === undefined) return [];
  const { latentHeight, latentWidth } = first;
  const timesteps = first.scheduler.timesteps;
  const channels = decoder.entry.latent_channels;
  const size = channels * latentHeight * latentWidth;
  for (const item of items) {
    const sameTimesteps = item.scheduler.timesteps.join() === timesteps.join();
    if (item.latentHeight !== latentHeight || item.latentWidth !== latentWidth || !sameTimesteps) {
      throw new EmuBotError('INTERNAL', 'denoised together, requests must share latent size and timesteps');
    }
    if (item.initialNoise.length !== size) {
      throw new EmuBotError(
        'INTERNAL',
        `initial noise has ${item.initialNoise.length} values for ${size} latents`,
      );
    }
  }
  const half = decoder.unet.inputs.find((spec) => spec.name === 'sample')?.type === 'float16';
  const hidden = decoder.entry.cross_attention_dim;
  const latents = items.map((item) => item.initialNoise);
  const outcomes: (Float32Array | EmuBotError | undefined)[] = items.map(() => undefined);
  for (const [index, timestep] of timesteps.entries()) {
    const active = items.flatMap((item, position) => {
      if (outcomes[position] !== undefined) return [];
      if (item.signal?.aborted === true) {
        outcomes[position] = new EmuBotError('ABORTED', 'image generation was cancelled between steps', {
          cause: item.signal.reason,
        });
        return [];
      }
      return [position];
    });
    if (active.length === 0) break;
    const rows = active.reduce((total, position) => total + (items[position] as DenoiseItem).rows, 0);
    const sample = new Float32Array(rows * size);
    const conditioning: Float32Array[] = [];
    let row = 0;
    for (const position of active) {
      const item = items[position] as DenoiseItem;
      for (let copy = 0; copy < item.rows; copy++)
        sample.set(latents[position] as Float32Array, (row + copy) * size);
      conditioning.push(item.embeddings);
      row += item.rows;
    }
    const tokens = (first.embeddings.length / (first.rows * hidden)) | 0;
    const outputs = await decoder.unet.run({
      sample: floatTensor(sample, [rows, channels, latentHeight, latentWidth], half),
      timestep: tensor('int64', new BigInt64Array(rows).fill(BigInt(timestep)), [rows]),
      encoder_hidden_states: floatTensor(concatenate(conditioning), [rows, tokens, hidden], half),
    });
    const predicted = floats(outputs['noise_pred'], decoder.unet.file);
    row = 0;
    for (const position of active) {
      const item = items[position] as DenoiseItem;
      const own = predicted.subarray(row * size, (row + item.rows) * size);
      const noise = item.rows === 2 ? guide(own, size, item.guidanceScale) : own;
      const next = item.scheduler.step(noise, timestep, latents[position] as Float32Array);
      latents[position] = next;
      item.onStep?.(index + 1, timesteps.length, next);
      row += item.rows;
    }
  }
  return latents.map((value, position) => outcomes[position] ?? value);
}

function concatenate(arrays: readonly Float32Array[]): Float32Array {
  const joined = new Float32Array(arrays.reduce((length, array) => length + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    joined.set(array, offset);
    offset += array.length;
  }
  return joined;
}

function guide(predicted: Float32Array, size: number, scale: number): Float32Array {
  const combined = new Float32Array(size);
  for (let index = 0; index < size; index++) {
    const conditional = predicted[index] as number;
    const unconditional = predicted[size + index] as number;
    combined[index] = unconditional + scale * (conditional - unconditional);
  }
  return combined;
}

export function floatTensor(values: Float32Array, dims: number[], half: boolean): Tensor {
  return half ? tensor('float16', floatsToHalves(values), dims) : tensor('float32', values, dims);
}

export function floats(value: Tensor | undefined, file: string): Float32Array {
  if (value === undefined) throw new EmuBotError('INTERNAL', `${file} returned no output`);
  return value.type === 'float16' ? halvesToFloats(value.data as Uint16Array) : (value.data as Float32Array);
}
