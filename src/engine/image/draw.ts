import { EmuBotError } from '../../core/index.js';
import type { LoadedBundle, LoadedImageDecoder } from '../bundle/index.js';
import { DecoderPipeline } from '../decoding/decoder-pipeline.js';
import { Xoshiro128StarStar } from '../generation/index.js';
import { encodePng, toPixelValues } from '../pixels/index.js';
import type { ImageRequest, ImageResult, RunOptions } from '../requests.js';
import type { EmuTokenizer } from '../tokenizer/index.js';
import { denoise, floats, floatTensor } from './denoise.js';
import { toRgbImage } from './postprocess.js';
import { regressImageEmbeddings } from './regression.js';
import { isFlagged } from './safety.js';
import { createScheduler } from './schedulers/index.js';

/**
 * Text and images to a PNG, as Emu's pipeline draws: regress 32 visual embeddings (with the
 * empty prompt as guidance's second row), denoise seeded noise with the UNet conditioned on
 * them, decode with the VAE, and ask the safety checker. Progress counts the 32 regression
 * steps and then the UNet calls.
 */
export async function drawImage(
  bundle: LoadedBundle,
  tokenizer: EmuTokenizer,
  request: ImageRequest,
  options: RunOptions = {},
): Promise<ImageResult> {
  const decoder = drawingDecoder(bundle);
  const { settings } = request;
  const factor = decoder.entry.vae_scale_factor;
  if (settings.width % factor !== 0 || settings.height % factor !== 0) {
    throw new EmuBotError(
      'INTERNAL',
      `image sizes must be multiples of ${factor}, got ${settings.width}x${settings.height}`,
    );
  }
  const scheduler = createScheduler(decoder.entry.default_scheduler, decoder.scheduler, settings.steps);
  const total = bundle.manifest.model.image_tokens + scheduler.timesteps.length;
  const report = (step: number) => options.onProgress?.({ step, totalSteps: total });
  const signal = options.signal === undefined ? {} : { signal: options.signal };

  const spec = bundle.manifest.image_preprocessing;
  const guided = settings.guidanceScale > 1;
  const [embeddings] = await regressImageEmbeddings(
    bundle,
    new DecoderPipeline(bundle),
    [
      {
        ids: tokenizer.encode(`${request.prompt}[IMG]`, { addBos: true }),
        pixelValues: request.images.map((image) => toPixelValues(image, spec)),
        guided,
      },
    ],
    { ...signal, onStep: report },
  );
  const latentHeight = settings.height / factor;
  const latentWidth = settings.width / factor;
  const latents = await denoise(
    decoder,
    {
      embeddings: embeddings as Float32Array,
      rows: guided ? 2 : 1,
      guidanceScale: settings.guidanceScale,
      initialNoise: standardNormal(decoder.entry.latent_channels * latentHeight * latentWidth, settings.seed),
      latentHeight,
      latentWidth,
      scheduler,
    },
    { ...signal, onStep: (step) => report(bundle.manifest.model.image_tokens + step) },
  );
  const image = toRgbImage(
    await decodeLatents(decoder, latents, latentHeight, latentWidth),
    settings.width,
    settings.height,
  );
  return { png: await encodePng(image), flagged: await isFlagged(decoder, image) };
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
