import { EmuBotError } from '../../core/index.js';
import type { LoadedBundle, LoadedImageDecoder } from '../bundle/index.js';
import { DecoderPipeline } from '../decoding/decoder-pipeline.js';
import { Xoshiro128StarStar } from '../generation/index.js';
import { encodePng, resizeLikePillow, toPixelValues } from '../pixels/index.js';
import type { ImageResult, RunOptions } from '../requests.js';
import type { EmuTokenizer } from '../tokenizer/index.js';
import { denoiseTogether, floats, floatTensor } from './denoise.js';
import { toRgbImage } from './postprocess.js';
import { type RegressionPrompt, regressImageEmbeddings } from './regression.js';
import { RegressionCache } from './regression-cache.js';
import { isFlagged } from './safety.js';
import { createScheduler, type Scheduler } from './schedulers/index.js';
import type { ResolvedImageRequest } from './settings.js';

export interface DrawingJob {
  readonly request: ResolvedImageRequest;
  readonly options: RunOptions;
}

/**
 * Jobs that can share every UNet call: the same latent size and the same timesteps (the same
 * scheduler; one left to the bundle's default is grouped apart from one named, which is harmless).
 */
export function batchKey(request: ResolvedImageRequest): string {
  const { steps, width, height, scheduler = 'default' } = request.settings;
  return `${steps}:${width}x${height}:${request.variationOf?.strength ?? 1}:${scheduler}`;
}

/**
 * Text and images to PNGs, as Emu's pipeline draws, for several requests at once: regress each
 * one's 32 visual embeddings (with the empty prompt as guidance's second row) in one decoder
 * batch, denoise each one's seeded noise in one UNet batch per timestep, decode with the VAE and
 * ask the safety checker. Each request gets what it would get alone, or its own error. Progress
 * counts the 32 regression steps and then the UNet calls. All jobs must share `batchKey`.
 * Requests with the same prompt and images share one regression, and with `cache` so do those
 * of later batches.
 */
export async function drawImages(
  bundle: LoadedBundle,
  tokenizer: EmuTokenizer,
  jobs: readonly DrawingJob[],
  cache?: RegressionCache,
): Promise<(ImageResult | EmuBotError)[]> {
  const decoder = drawingDecoder(bundle);
  const first = jobs[0];
  if (first === undefined) return [];
  const { steps, width, height } = first.request.settings;
  const factor = decoder.entry.vae_scale_factor;
  if (width % factor !== 0 || height % factor !== 0) {
    throw new EmuBotError('INTERNAL', `image sizes must be multiples of ${factor}, got ${width}x${height}`);
  }
  const imageTokens = bundle.manifest.model.image_tokens;
  const spec = bundle.manifest.image_preprocessing;
  for (const { request } of jobs) {
    const { scheduler } = request.settings;
    if (scheduler !== undefined && scheduler !== 'pndm' && scheduler !== 'ddim')
      throw new EmuBotError('INTERNAL', `unknown scheduler "${String(scheduler)}": expected pndm or ddim`);
  }
  const schedulers = jobs.map(({ request }) =>
    createScheduler(
      request.settings.scheduler ?? decoder.entry.default_scheduler,
      decoder.scheduler,
      steps,
      request.variationOf?.strength ?? 1,
    ),
  );
  const total = imageTokens + (schedulers[0]?.timesteps.length ?? 0);
  const report = (job: DrawingJob, step: number) => job.options.onProgress?.({ step, totalSteps: total });

  const embeddings = await regressOnce(
    bundle,
    jobs.map(({ request }) => ({
      ids: tokenizer.encode(`${request.prompt}[IMG]`, { addBos: true }),
      pixelValues: request.images.map((image) => toPixelValues(image, spec)),
      guided: request.settings.guidanceScale > 1,
    })),
    jobs.map(({ options }) => options.signal),
    cache,
    (step) => {
      for (const job of jobs) if (job.options.signal?.aborted !== true) report(job, step);
    },
  );
  const latentHeight = height / factor;
  const latentWidth = width / factor;
  const denoising = jobs.flatMap((job, index) => {
    const regressed = embeddings[index];
    return regressed instanceof Float32Array ? [{ job, index, regressed }] : [];
  });
  const denoised = await denoiseTogether(
    decoder,
    await Promise.all(
      denoising.map(async ({ job, index, regressed }) => ({
        embeddings: regressed,
        rows: job.request.settings.guidanceScale > 1 ? 2 : 1,
        guidanceScale: job.request.settings.guidanceScale,
        initialNoise: await startingLatents(
          decoder,
          job.request,
          schedulers[index] as Scheduler,
          latentHeight,
          latentWidth,
        ),
        latentHeight,
        latentWidth,
        scheduler: schedulers[index] as Scheduler,
        ...(job.options.signal === undefined ? {} : { signal: job.options.signal }),
        onStep: (step: number) => report(job, imageTokens + step),
      })),
    ),
  );
  const latents = embeddings.map((regressed) =>
    regressed instanceof EmuBotError ? regressed : (denoised.shift() as Float32Array | EmuBotError),
  );
  return Promise.all(
    latents.map(async (outcome) => {
      if (outcome instanceof EmuBotError) return outcome;
      const image = toRgbImage(
        await decodeLatents(decoder, outcome, latentHeight, latentWidth),
        width,
        height,
      );
      return { png: await encodePng(image), flagged: await isFlagged(decoder, image) };
    }),
  );
}

/**
 * The embeddings of each prompt, regressing each distinct one once (and none found in `cache`).
 * A cancelled request leaves at the next step of whichever phase it is in; a regression shared by
 * several requests stops only when all of them are cancelled, and when none is left it stops.
 */
async function regressOnce(
  bundle: LoadedBundle,
  prompts: readonly RegressionPrompt[],
  signals: readonly (AbortSignal | undefined)[],
  cache: RegressionCache | undefined,
  onStep: (step: number) => void,
): Promise<(Float32Array | EmuBotError)[]> {
  const keys = prompts.map((prompt) => RegressionCache.key(prompt));
  const outcomes = new Map<string, Float32Array | EmuBotError>();
  const missing = new Map<string, { prompt: RegressionPrompt; signals: (AbortSignal | undefined)[] }>();
  prompts.forEach((prompt, index) => {
    const key = keys[index] as string;
    const cached = cache?.get(key);
    if (cached !== undefined) {
      outcomes.set(key, cached);
      return;
    }
    const shared = missing.get(key) ?? { prompt, signals: [] };
    shared.signals.push(signals[index]);
    missing.set(key, shared);
  });
  const regressing = [...missing.entries()];
  if (regressing.length === 0) {
    onStep(bundle.manifest.model.image_tokens);
  } else {
    const regressed = await regressImageEmbeddings(
      bundle,
      new DecoderPipeline(bundle),
      regressing.map(([, { prompt }]) => prompt),
      { signals: regressing.map(([, shared]) => whenAllAborted(shared.signals)), onStep },
    );
    regressing.forEach(([key], index) => {
      const outcome = regressed[index] as Float32Array | EmuBotError;
      outcomes.set(key, outcome);
      if (outcome instanceof Float32Array) cache?.set(key, outcome);
    });
  }
  return keys.map((key) => outcomes.get(key) as Float32Array | EmuBotError);
}

/** A signal that fires once every one of `signals` has fired; none when any request cannot be cancelled. */
function whenAllAborted(signals: readonly (AbortSignal | undefined)[]): AbortSignal | undefined {
  if (signals.length === 1) return signals[0];
  if (signals.some((signal) => signal === undefined)) return undefined;
  const controller = new AbortController();
  const check = () => {
    if (signals.every((signal) => signal?.aborted === true)) controller.abort(signals[0]?.reason);
  };
  for (const signal of signals) signal?.addEventListener('abort', check, { once: true });
  check();
  return controller.signal;
}

/**
 * Pure seeded noise, or for a variation the image's latents (a sample of the VAE encoder's
 * Gaussian) noised to the scheduler's first timestep, as diffusers' img2img starts.
 */
async function startingLatents(
  decoder: LoadedImageDecoder,
  request: ResolvedImageRequest,
  scheduler: Scheduler,
  latentHeight: number,
  latentWidth: number,
): Promise<Float32Array> {
  const size = decoder.entry.latent_channels * latentHeight * latentWidth;
  const source = request.variationOf;
  if (source === undefined) return standardNormal(size, request.settings.seed);
  const random = standardNormal(2 * size, request.settings.seed);
  const { width, height } = request.settings;
  const resized = resizeLikePillow(source.image, width, height);
  const pixels = new Float32Array(3 * width * height);
  for (let pixel = 0; pixel < width * height; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      pixels[channel * width * height + pixel] = (resized.data[pixel * 3 + channel] as number) / 127.5 - 1;
    }
  }
  const half = decoder.vaeEncoder.inputs[0]?.type === 'float16';
  const outputs = await decoder.vaeEncoder.run({ image: floatTensor(pixels, [1, 3, height, width], half) });
  const mean = floats(outputs['latent_mean'], decoder.vaeEncoder.file);
  const spread = floats(outputs['latent_std'], decoder.vaeEncoder.file);
  const sampled = mean.map((value, index) => value + (spread[index] as number) * (random[index] as number));
  const first = scheduler.timesteps[0];
  if (first === undefined) return sampled;
  return scheduler.addNoise(sampled, random.subarray(size), first);
}

function drawingDecoder(bundle: LoadedBundle): LoadedImageDecoder {
  if (!bundle.manifest.image_generation || bundle.imageDecoder === null) {
    throw new EmuBotError(
      'BUNDLE_INVALID',
      `${bundle.directory} has no image decoder graphs, so it cannot draw`,
      {
        userMessage: 'Drawing is not available with the model installed here.',
      },
    );
  }
  return bundle.imageDecoder;
}

async function decodeLatents(
  decoder: LoadedImageDecoder,
  latents: Float32Array,
  latentHeight: number,
  latentWidth: number,
): Promise<Float32Array> {
  const half = decoder.vaeDecoder.inputs[0]?.type === 'float16';
  const dims = [1, decoder.entry.latent_channels, latentHeight, latentWidth];
  const outputs = await decoder.vaeDecoder.run({ latents: floatTensor(latents, dims, half) });
  return floats(outputs['image'], decoder.vaeDecoder.file);
}

/**
 * Seeded standard normal noise (Box-Muller over xoshiro128**): the same seed draws the same
 * image. PyTorch's generator cannot be reproduced here, so a seed gives a different (equally
 * valid) image than the reference's `randn` for that seed.
 */
export function standardNormal(count: number, seed: number): Float32Array {
  const random = Xoshiro128StarStar.fromSeed(seed);
  const values = new Float32Array(count);
  for (let index = 0; index < count; index += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
    const angle = 2 * Math.PI * random.nextFloat();
    values[index] = radius * Math.cos(angle);
    if (index + 1 < count) values[index + 1] = radius * Math.sin(angle);
  }
  return values;
}
