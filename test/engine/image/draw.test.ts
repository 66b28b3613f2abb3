import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { packageRoot } from '../../../src/core/index.js';
import { type LoadedBundle, loadBundle } from '../../../src/engine/bundle/index.js';
import { DecoderPipeline } from '../../../src/engine/decoding/decoder-pipeline.js';
import { floats, floatTensor } from '../../../src/engine/image/denoise.js';
import { batchKey, drawImages } from '../../../src/engine/image/draw.js';
import { toRgbImage } from '../../../src/engine/image/postprocess.js';
import { RegressionCache } from '../../../src/engine/image/regression-cache.js';
import { isFlagged } from '../../../src/engine/image/safety.js';
import type { ResolvedImageRequest } from '../../../src/engine/image/settings.js';
import { OnnxEngine } from '../../../src/engine/onnx-engine.js';
import type { ImageRequest } from '../../../src/engine/requests.js';
import { cpuSettings, fixtureBundles, fixtureImage } from '../helpers.js';

interface ImageCase {
  readonly name: string;
  readonly latents_after_step: Record<string, unknown>;
  readonly image_uint8_base64: string;
  readonly has_nsfw_concept: boolean;
}

const golden = JSON.parse(
  readFileSync(join(packageRoot, 'test', 'fixtures', 'goldens', 'tiny-pretrain-image.json'), 'utf8'),
) as { cases: ImageCase[] };

/** The largest difference of one channel of one pixel between two PNGs of the same size, in levels of 255. */
async function largestPixelDifference(first: Uint8Array, second: Uint8Array): Promise<number> {
  const [mine, theirs] = await Promise.all([sharp(first).raw().toBuffer(), sharp(second).raw().toBuffer()]);
  let largest = 0;
  mine.forEach((byte, at) => {
    largest = Math.max(largest, Math.abs(byte - (theirs[at] as number)));
  });
  return largest;
}

let bundle: LoadedBundle;
let engine: OnnxEngine;
beforeAll(async () => {
  bundle = await loadBundle(join(fixtureBundles, 'tiny-pretrain'), cpuSettings);
  engine = await OnnxEngine.load({
    bundles: {
      pretrain: join(fixtureBundles, 'tiny-pretrain'),
      instruct: join(fixtureBundles, 'tiny-instruct'),
    },
    sessions: cpuSettings,
    maxBatchRows: 8,
  });
});
afterAll(async () => {
  await bundle.release();
  await engine.close();
});

describe('decoding and checking the final latents', () => {
  it.each(golden.cases.map((imageCase) => [imageCase.name, imageCase] as const))(
    'gives the reference image (within 1 of 255) and safety verdict: %s',
    async (_name, imageCase) => {
      const decoder = bundle.imageDecoder;
      if (decoder === null) throw new Error('the fixture bundle has no image decoder');
      const last = Math.max(...Object.keys(imageCase.latents_after_step).map(Number));
      const latents = Float32Array.from(
        (imageCase.latents_after_step[String(last)] as unknown[]).flat(4) as number[],
      );
      const outputs = await decoder.vaeDecoder.run({ latents: floatTensor(latents, [1, 4, 8, 8], false) });
      const image = toRgbImage(floats(outputs['image'], 'vae_decoder.onnx'), 64, 64);
      const expected = Buffer.from(imageCase.image_uint8_base64, 'base64');
      let largest = 0;
      expected.forEach((byte, index) => {
        largest = Math.max(largest, Math.abs(byte - (image.data[index] as number)));
      });
      expect(largest).toBeLessThanOrEqual(1);
      expect(await isFlagged(decoder, image)).toBe(imageCase.has_nsfw_concept);
    },
  );
});

describe('OnnxEngine.generateImage', () => {
  const request: ResolvedImageRequest = {
    model: 'pretrain',
    prompt: 'An image of a dog wearing a pair of glasses.',
    images: [],
    settings: { seed: 7, steps: 10, guidanceScale: 7.5, width: 64, height: 64 },
  };

  it('draws a PNG of the asked size, the same for the same seed, reporting every step', async () => {
    const steps: number[] = [];
    const first = await engine.generateImage(request, {
      onProgress: (progress) => steps.push(progress.step),
    });
    const again = await engine.generateImage(request);
    const other = await engine.generateImage({ ...request, settings: { ...request.settings, seed: 8 } });
    const { width, height, format } = await sharp(first.png).metadata();
    expect([format, width, height]).toEqual(['png', 64, 64]);
    expect(Buffer.from(again.png).equals(Buffer.from(first.png))).toBe(true);
    expect(Buffer.from(other.png).equals(Buffer.from(first.png))).toBe(false);
    // 32 regression steps, then PNDM's 11 UNet calls for 10 steps.
    expect(steps).toEqual(Array.from({ length: 43 }, (_, index) => index + 1));
    expect(typeof first.flagged).toBe('boolean');
  });

  it('gives several drawings in one batch what each gives alone', async () => {
    const requests = [
      request,
      { ...request, settings: { ...request.settings, seed: 9, guidanceScale: 1 } },
      { ...request, prompt: 'A red circle.', settings: { ...request.settings, seed: 11 } },
    ];
    const alone = [];
    for (const each of requests) alone.push(await engine.generateImage(each));
    const together = await Promise.all(requests.map((each) => engine.generateImage(each)));
    for (const [index, result] of together.entries()) {
      const largest = await largestPixelDifference(result.png, (alone[index] as { png: Uint8Array }).png);
      // Kernels sum in another order at another batch size (about 1e-6), which can move a pixel
      // across a rounding boundary: one level of 255, never more.
      expect(largest).toBeLessThanOrEqual(1);
    }
  });

  it('lets one drawing of a batch be cancelled while the others finish', async () => {
    const controller = new AbortController();
    const cancelled = engine.generateImage(request, {
      signal: controller.signal,
      onProgress: ({ step }) => {
        if (step === 36) controller.abort();
      },
    });
    const other = engine.generateImage({ ...request, settings: { ...request.settings, seed: 12 } });
    await expect(cancelled).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await sharp((await other).png).metadata()).format).toBe('png');
  });

  it('draws a variation of an image: part of the steps, from its encoded latents', async () => {
    const source = await fixtureImage('tiger.jpg');
    const variation = { ...request, variationOf: { image: source, strength: 0.5 } };
    const steps: number[] = [];
    const first = await engine.generateImage(variation, {
      onProgress: ({ totalSteps }) => steps.push(totalSteps),
    });
    const again = await engine.generateImage(variation);
    const plain = await engine.generateImage(request);
    expect(Buffer.from(again.png).equals(Buffer.from(first.png))).toBe(true);
    expect(Buffer.from(plain.png).equals(Buffer.from(first.png))).toBe(false);
    // 10 PNDM steps are 11 UNet calls; strength 0.5 keeps the last 6 of them.
    expect(new Set(steps)).toEqual(new Set([32 + 6]));
  });

  it('stops between steps when aborted', async () => {
    const controller = new AbortController();
    const running = engine.generateImage(request, {
      signal: controller.signal,
      onProgress: ({ step }) => {
        if (step === 35) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('says plainly when the bundle cannot draw', async () => {
    await expect(
      engine.generateImage({ ...request, model: 'instruct' } as unknown as ImageRequest),
    ).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
    });
  });

  it('draws with the scheduler a request names, the bundle default otherwise', async () => {
    expect(bundle.manifest.image_decoder?.default_scheduler).toBe('pndm');
    // A prompt no other test draws, so that its regression is not in the engine's cache yet.
    const unseen: ResolvedImageRequest = { ...request, prompt: 'Drawn with either scheduler.' };
    const progress = (steps: number[]) => ({ onProgress: ({ step }: { step: number }) => steps.push(step) });
    const [byDefault, pndm, ddim]: number[][] = [[], [], []];
    const plain = await engine.generateImage(unseen, progress(byDefault as number[]));
    const named = await engine.generateImage(
      { ...unseen, settings: { ...unseen.settings, scheduler: 'pndm' } },
      progress(pndm as number[]),
    );
    const faster = await engine.generateImage(
      { ...unseen, settings: { ...unseen.settings, scheduler: 'ddim' } },
      progress(ddim as number[]),
    );
    expect(Buffer.from(named.png).equals(Buffer.from(plain.png))).toBe(true);
    expect(Buffer.from(faster.png).equals(Buffer.from(plain.png))).toBe(false);
    // PNDM runs 11 UNet calls for 10 steps (its first timestep twice), DDIM 10. The three share
    // one prompt: the first regresses it step by step, the others find it regressed (step 32).
    const denoising = (steps: number[]) => steps.filter((step) => step > 32);
    expect(byDefault).toEqual(Array.from({ length: 32 + 11 }, (_, index) => index + 1));
    expect(pndm).toEqual([32, ...denoising(byDefault as number[])]);
    expect(ddim).toEqual([32, ...Array.from({ length: 10 }, (_, index) => 33 + index)]);
    expect(batchKey({ ...request, settings: { ...request.settings, scheduler: 'ddim' } })).not.toBe(
      batchKey(request),
    );
  });
});

describe('drawImages in a batch', () => {
  const request: ResolvedImageRequest = {
    model: 'pretrain',
    prompt: 'A red circle.',
    images: [],
    settings: { seed: 3, steps: 4, guidanceScale: 7.5, width: 64, height: 64 },
  };
  // A different prompt regresses in rows of its own; the same prompt shares one regression.
  const other: ResolvedImageRequest = { ...request, prompt: 'A blue square.' };
  const tokenizer = () => engine.tokenizer('pretrain');

  /** The rows of every decoder call `draw` makes. */
  async function decoderRows<T>(draw: () => Promise<T>): Promise<{ result: T; rows: number[] }> {
    const step = vi.spyOn(DecoderPipeline.prototype, 'step');
    try {
      const result = await draw();
      return { result, rows: step.mock.calls.map(([, input]) => input.positionIds.length / input.incoming) };
    } finally {
      step.mockRestore();
    }
  }

  it('regresses a prompt once for several seeds, and not again when it is cached', async () => {
    const seeds = [31, 32, 33];
    const jobs = seeds.map((seed) => ({
      request: { ...request, settings: { ...request.settings, seed } },
      options: {},
    }));
    const cache = new RegressionCache(1024 * 1024);
    const first = await decoderRows(() => drawImages(bundle, tokenizer(), jobs, cache));
    // One prefill and 31 steps, of two rows: the prompt and guidance's empty prompt.
    expect(first.rows).toEqual(Array.from({ length: 32 }, () => 2));
    expect(cache.size).toBe(1);
    const again = await decoderRows(() => drawImages(bundle, tokenizer(), jobs.slice(0, 1), cache));
    expect(again.rows).toEqual([]);
    const pngs = first.result.map((outcome) => Buffer.from((outcome as { png: Uint8Array }).png));
    expect(new Set(pngs.map((png) => png.toString('base64'))).size).toBe(3);
    expect(Buffer.from((again.result[0] as { png: Uint8Array }).png).equals(pngs[0] as Buffer)).toBe(true);
    const [alone] = await drawImages(bundle, tokenizer(), jobs.slice(2));
    expect(
      await largestPixelDifference(pngs[2] as Buffer, (alone as { png: Uint8Array }).png),
    ).toBeLessThanOrEqual(1);
  });

  it('keeps a shared regression going while any request sharing it still waits', async () => {
    const controller = new AbortController();
    const outcomes = await drawImages(bundle, tokenizer(), [
      {
        request,
        options: {
          signal: controller.signal,
          onProgress: ({ step }) => {
            if (step === 3) controller.abort();
          },
        },
      },
      { request: { ...request, settings: { ...request.settings, seed: 5 } }, options: {} },
    ]);
    expect(outcomes[0]).toMatchObject({ code: 'ABORTED' });
    expect(outcomes[1]).toHaveProperty('png');
  });

  it('lets a request cancelled during the regression leave at its next step', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const outcomes = await drawImages(bundle, tokenizer(), [
      {
        request,
        options: {
          signal: controller.signal,
          onProgress: ({ step }) => {
            seen.push(step);
            if (step === 5) controller.abort();
          },
        },
      },
      { request: { ...other, settings: { ...other.settings, seed: 4 } }, options: {} },
    ]);
    expect(outcomes[0]).toMatchObject({ code: 'ABORTED' });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const [alone] = await drawImages(bundle, tokenizer(), [
      { request: { ...other, settings: { ...other.settings, seed: 4 } }, options: {} },
    ]);
    const largest = await largestPixelDifference(
      (outcomes[1] as { png: Uint8Array }).png,
      (alone as { png: Uint8Array }).png,
    );
    expect(largest).toBeLessThanOrEqual(1);
  });

  it('stops a shared regression, and never denoises, when every request sharing it is cancelled', async () => {
    const controllers = [new AbortController(), new AbortController()];
    const seen: number[][] = [[], []];
    const outcomes = await drawImages(
      bundle,
      tokenizer(),
      controllers.map((controller, index) => ({
        request: { ...request, settings: { ...request.settings, seed: 20 + index } },
        options: {
          signal: controller.signal,
          onProgress: ({ step }) => {
            seen[index]?.push(step);
            if (step === 2 + index) controller.abort();
          },
        },
      })),
    );
    expect(outcomes.map((outcome) => (outcome as { code?: string }).code)).toEqual(['ABORTED', 'ABORTED']);
    expect(seen).toEqual([
      [1, 2],
      [1, 2, 3],
    ]);
  });
});
