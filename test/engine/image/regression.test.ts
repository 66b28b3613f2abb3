import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/core/index.js';
import { type LoadedBundle, loadBundle } from '../../../src/engine/bundle/index.js';
import { DecoderPipeline } from '../../../src/engine/decoding/decoder-pipeline.js';
import { regressImageEmbeddings } from '../../../src/engine/image/regression.js';
import { toPixelValues } from '../../../src/engine/pixels/index.js';
import { EmuTokenizer } from '../../../src/engine/tokenizer/index.js';
import { cpuSettings, fixtureBundles, fixtureImage, imagePlaceholder } from '../helpers.js';

interface RegressionGolden {
  readonly name: string;
  readonly prompt: string;
  readonly images: readonly string[];
  readonly prompt_ids: readonly number[];
  readonly guidance_scale: number;
  readonly embeds: readonly (readonly (readonly number[])[])[];
}

const goldens = (
  JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'goldens', 'tiny-pretrain.json'), 'utf8'),
  ) as {
    regression: RegressionGolden[];
  }
).regression;

let bundle: LoadedBundle;
let tokenizer: EmuTokenizer;
beforeAll(async () => {
  bundle = await loadBundle(join(fixtureBundles, 'tiny-pretrain'), cpuSettings);
  tokenizer = await EmuTokenizer.fromFile(join(bundle.directory, 'tokenizer.json'));
});
afterAll(async () => {
  await bundle.release();
});

async function promptOf(golden: RegressionGolden) {
  const { image_preprocessing: spec } = bundle.manifest;
  const text = `${golden.prompt.split('<img>').join(imagePlaceholder(32))}[IMG]`;
  const images = await Promise.all(golden.images.map(fixtureImage));
  return {
    ids: tokenizer.encode(text, { addBos: true }),
    pixelValues: images.map((image) =>
      toPixelValues(image, { size: spec.size, mean: spec.mean, std: spec.std }),
    ),
    guided: golden.guidance_scale > 1,
  };
}

// Each regressed embedding is fed back as the next step's input, so float noise compounds over the
// 32 steps: on the random 8-wide fixture the first step differs from PyTorch by about 1e-6 and the
// last by about 1e-4 (values near 3). The check is numpy's allclose with atol = rtol = 1e-4.
const ABSOLUTE_TOLERANCE = 1e-4;
const RELATIVE_TOLERANCE = 1e-4;

/** The largest |actual - expected| / (atol + rtol * |expected|): below 1 means within tolerance. */
function worstToleranceRatio(
  actual: Float32Array,
  expected: readonly (readonly (readonly number[])[])[],
): number {
  const flat = expected.flat(2);
  expect(actual.length).toBe(flat.length);
  return flat.reduce(
    (worst, value, index) =>
      Math.max(
        worst,
        Math.abs(value - (actual[index] as number)) /
          (ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.abs(value)),
      ),
    0,
  );
}

/** An engine result in the goldens' nesting (the comparison flattens it again). */
function asGolden(flat: Float32Array): number[][][] {
  return [[Array.from(flat)]];
}

/** The first regressed embedding has seen no feedback yet, so it must agree to float32 noise. */
function firstStepDifference(
  actual: Float32Array,
  expected: readonly (readonly (readonly number[])[])[],
): number {
  const first = expected[0]?.[0] ?? [];
  return first.reduce(
    (largest, value, index) => Math.max(largest, Math.abs(value - (actual[index] as number))),
    0,
  );
}

describe('regressImageEmbeddings', () => {
  it.each(goldens.map((golden) => [`${golden.name}, guidance ${golden.guidance_scale}`, golden] as const))(
    'matches the reference (allclose, atol = rtol = 1e-4): %s',
    async (_name, golden) => {
      const prompt = await promptOf(golden);
      expect(prompt.ids).toEqual(golden.prompt_ids);
      const steps: number[] = [];
      const [embeddings] = await regressImageEmbeddings(bundle, new DecoderPipeline(bundle), [prompt], {
        onStep: (step) => steps.push(step),
      });
      expect(firstStepDifference(embeddings as Float32Array, golden.embeds)).toBeLessThan(1e-5);
      expect(worstToleranceRatio(embeddings as Float32Array, golden.embeds)).toBeLessThan(1);
      expect(steps).toEqual(Array.from({ length: 32 }, (_, index) => index + 1));
    },
  );

  it('gives several requests in one batch what each gives alone', async () => {
    const prompts = await Promise.all(goldens.map(promptOf));
    const together = await regressImageEmbeddings(bundle, new DecoderPipeline(bundle), prompts);
    for (const [index, prompt] of prompts.entries()) {
      const [alone] = await regressImageEmbeddings(bundle, new DecoderPipeline(bundle), [prompt]);
      const batched = together[index] as Float32Array;
      // Left padding changes the attention's reduction lengths, so rows agree to the compounded float
      // noise the reference comparison allows, not bit for bit.
      expect(worstToleranceRatio(batched, asGolden(alone as Float32Array))).toBeLessThan(1);
    }
  });

  it('stops between steps when aborted', async () => {
    const controller = new AbortController();
    const prompt = await promptOf(goldens[0] as RegressionGolden);
    const running = regressImageEmbeddings(bundle, new DecoderPipeline(bundle), [prompt], {
      signal: controller.signal,
      onStep: (step) => {
        if (step === 3) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('lets one prompt of a batch leave at the next step, its rows leaving the decoder calls', async () => {
    const prompts = await Promise.all(goldens.map(promptOf));
    expect(prompts.length).toBeGreaterThanOrEqual(2);
    const controller = new AbortController();
    const decoder = new DecoderPipeline(bundle);
    const rowsPerCall: number[] = [];
    const step = decoder.step.bind(decoder);
    decoder.step = (cache, input) => {
      rowsPerCall.push(cache.rows);
      return step(cache, input);
    };
    const rowsOf = (prompt: (typeof prompts)[number]) => (prompt.guided ? 2 : 1);
    const allRows = prompts.reduce((sum, prompt) => sum + rowsOf(prompt), 0);
    const outcomes = await regressImageEmbeddings(bundle, decoder, prompts, {
      signals: prompts.map((_, index) => (index === 0 ? controller.signal : undefined)),
      onStep: (done) => {
        if (done === 3) controller.abort();
      },
    });
    expect(outcomes[0]).toMatchObject({ code: 'ABORTED' });
    // The prefill and two steps with every row, then the rest without the cancelled prompt's.
    expect(rowsPerCall.slice(0, 3)).toEqual([allRows, allRows, allRows]);
    expect(new Set(rowsPerCall.slice(3))).toEqual(
      new Set([allRows - rowsOf(prompts[0] as (typeof prompts)[number])]),
    );
    expect(rowsPerCall).toHaveLength(32);
    for (const [index, prompt] of prompts.entries()) {
      if (index === 0) continue;
      const [alone] = await regressImageEmbeddings(bundle, new DecoderPipeline(bundle), [prompt]);
      expect(
        worstToleranceRatio(outcomes[index] as Float32Array, asGolden(alone as Float32Array)),
      ).toBeLessThan(1);
    }
  });

  it('stops the regression once every prompt of a batch is cancelled', async () => {
    const prompts = await Promise.all(goldens.map(promptOf));
    const controllers = prompts.map(() => new AbortController());
    const steps: number[] = [];
    const outcomes = await regressImageEmbeddings(bundle, new DecoderPipeline(bundle), prompts, {
      signals: controllers.map((controller) => controller.signal),
      onStep: (done) => {
        steps.push(done);
        // One leaves after step 2, the rest after step 4.
        if (done === 2) controllers[0]?.abort();
        if (done === 4) for (const controller of controllers) controller.abort();
      },
    });
    expect(outcomes.map((outcome) => (outcome as { code?: string }).code)).toEqual(
      prompts.map(() => 'ABORTED'),
    );
    expect(steps).toEqual([1, 2, 3, 4]);
  });
});
