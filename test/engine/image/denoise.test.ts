import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/index.js';
import { type LoadedBundle, loadBundle } from '../../../src/engine/bundle/index.js';
import { denoise } from '../../../src/engine/image/denoise.js';
import { createScheduler } from '../../../src/engine/image/schedulers/index.js';
import { cpuSettings, fixtureBundles } from '../helpers.js';

interface ImageCase {
  readonly name: string;
  readonly scheduler: 'pndm' | 'ddim';
  readonly num_inference_steps: number;
  readonly guidance_scale: number;
  readonly regression_case: string;
  readonly latents_after_step: Record<string, unknown>;
}

const goldens = join(packageRoot, 'test', 'fixtures', 'goldens');
const image = JSON.parse(readFileSync(join(goldens, 'tiny-pretrain-image.json'), 'utf8')) as {
  initial_noise: unknown[];
  cases: ImageCase[];
};
const regression = (
  JSON.parse(readFileSync(join(goldens, 'tiny-pretrain.json'), 'utf8')) as {
    regression: { name: string; guidance_scale: number; embeds: unknown[] }[];
  }
).regression;

const flat = (value: unknown): Float32Array => Float32Array.from((value as unknown[]).flat(4) as number[]);

let bundle: LoadedBundle;
beforeAll(async () => {
  bundle = await loadBundle(join(fixtureBundles, 'tiny-pretrain'), cpuSettings);
});
afterAll(async () => {
  await bundle.release();
});

describe('denoise', () => {
  it.each(image.cases.map((golden) => [golden.name, golden] as const))(
    'follows the reference latents within 1e-4: %s',
    async (_name, golden) => {
      const decoder = bundle.imageDecoder;
      if (decoder === null) throw new Error('the fixture bundle has no image decoder');
      const conditioning = regression.find(
        (candidate) =>
          candidate.name === golden.regression_case && candidate.guidance_scale === golden.guidance_scale,
      );
      const seen = new Map<number, Float32Array>();
      const scheduler = createScheduler(golden.scheduler, decoder.scheduler, golden.num_inference_steps);
      await denoise(
        decoder,
        {
          embeddings: flat(conditioning?.embeds),
          rows: golden.guidance_scale > 1 ? 2 : 1,
          guidanceScale: golden.guidance_scale,
          initialNoise: flat(image.initial_noise),
          latentHeight: 8,
          latentWidth: 8,
          scheduler,
        },
        { onStep: (step, _total, latents) => seen.set(step, latents) },
      );
      for (const [step, expected] of Object.entries(golden.latents_after_step)) {
        const actual = seen.get(Number(step)) as Float32Array;
        const reference = flat(expected);
        let largest = 0;
        reference.forEach((value, index) => {
          largest = Math.max(largest, Math.abs(value - (actual[index] as number)));
        });
        expect(largest, `step ${step}`).toBeLessThan(1e-4);
      }
    },
  );
});
