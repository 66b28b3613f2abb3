import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../src/engine/onnx-engine.js';
import type { TextRequest } from '../../src/engine/requests.js';
import {
  cpuSettings,
  fixtureBundles,
  type GoldenGeneration,
  type GoldenPrompt,
  goldenPrompt,
  goldenRequest,
  imagePlaceholder,
  readGoldens,
} from './helpers.js';

/**
 * The pretrained bundles against the reference's own generation (tiny-pretrain.json), through
 * the whole engine: tokenizer, vision encoder, embedding, decoder with its KV cache, search.
 * The fp16 bundle (fp16 graph, decoder split in two) is held to the same token-for-token
 * standard: on these cases fp16 rounding does not reorder the candidates that greedy and beam
 * search pick (checked), so no tolerance is needed, and a drift that did would fail here.
 */
const goldens = readGoldens('tiny-pretrain');

const promptNamed = (name: string): GoldenPrompt => goldenPrompt(goldens, name);

const requestFor = (prompt: GoldenPrompt, generation: GoldenGeneration): Promise<TextRequest> =>
  goldenRequest('pretrain', prompt, generation);

const caseName = (generation: GoldenGeneration): string =>
  `${generation.mode}${generation.length_penalty ?? ''} ${generation.prompts.join('+')}`;

describe.each(['tiny-pretrain', 'tiny-pretrain-split2-fp16'])('OnnxEngine on %s', (bundle) => {
  let engine: OnnxEngine;
  beforeAll(async () => {
    engine = await OnnxEngine.load({
      bundles: { pretrain: join(fixtureBundles, bundle) },
      sessions: cpuSettings,
      maxBatchRows: 32,
    });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('tokenizes the golden prompts as the reference does', () => {
    for (const prompt of goldens.prompts) {
      const text = prompt.text.split(prompt.image_placeholder).join(imagePlaceholder(32));
      expect(engine.tokenizer('pretrain').encode(text, { addBos: true }), prompt.name).toEqual(prompt.ids);
    }
  });

  it.each(goldens.generation.map((generation) => [caseName(generation), generation] as const))(
    'matches the reference token for token: %s',
    async (_name, generation) => {
      const requests = await Promise.all(
        generation.prompts.map((name) => requestFor(promptNamed(name), generation)),
      );
      const results = await Promise.all(requests.map((request) => engine.generateText(request)));
      expect(results.map((result) => result.tokenIds)).toEqual(generation.tokens);
      expect(results.map((result) => result.text)).toEqual(generation.text);
    },
  );
});
