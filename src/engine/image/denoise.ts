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
  const { rows, scheduler } = input;
  const channels = decoder.entry.latent_channels;
  const size = channels * input.latentHeight * input.latentWidth;
  if (input.initialNoise.length !== size) {
    throw new EmuBotError(
      'INTERNAL',
      `initial noise has ${input.initialNoise.length} values for ${size} latents`,
    );
  }
  const half = decoder.unet.inputs.find((spec) => spec.name === 'sample')?.type === 'float16';
  const hidden = decoder.entry.cross_attention_dim;
  const tokens = input.embeddings.length / (rows * hidden);
  const conditioning = floatTensor(input.embeddings, [rows, tokens, hidden], half);
  let latents = input.initialNoise;
  const total = scheduler.timesteps.length;
  for (const [index, timestep] of scheduler.timesteps.entries()) {
    if (options.signal?.aborted === true) {
      throw new EmuBotError('ABORTED', 'image generation was cancelled between steps', {
        cause: options.signal.reason,
      });
    }
    const sample = new Float32Array(rows * size);
    for (let row = 0; row < rows; row++) sample.set(latents, row * size);
    const outputs = await decoder.unet.run({
      sample: floatTensor(sample, [rows, channels, input.latentHeight, input.latentWidth], half),
      timestep: tensor('int64', new BigInt64Array(rows).fill(BigInt(timestep)), [rows]),
      encoder_hidden_states: conditioning,
    });
    const predicted = floats(outputs['noise_pred'], decoder.unet.file);
    const noise = rows === 2 ? guide(predicted, size, input.guidanceScale) : predicted;
    latents = scheduler.step(noise, timestep, latents);
    options.onStep?.(index + 1, total, latents);
  }
  return latents;
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
