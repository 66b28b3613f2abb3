import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmuBotError } from '../../src/core/index.js';
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

const goldens = readGoldens('tiny-instruct');
let engine: OnnxEngine;

beforeAll(async () => {
  engine = await OnnxEngine.load({
    bundles: { instruct: join(fixtureBundles, 'tiny-instruct') },
    sessions: cpuSettings,
    maxBatchRows: 32,
  });
});
afterAll(async () => {
  await engine.close();
});

const requestFor = (prompt: GoldenPrompt, generation: GoldenGeneration): Promise<TextRequest> =>
  goldenRequest('instruct', prompt, generation);

const promptNamed = (name: string): GoldenPrompt => goldenPrompt(goldens, name);

describe('OnnxEngine text generation', () => {
  it('tokenizes the golden prompts as the reference does', () => {
    for (const prompt of goldens.prompts) {
      const text = prompt.text.split(prompt.image_placeholder).join(imagePlaceholder(32));
      expect(engine.tokenizer('instruct').encode(text, { addBos: true }), prompt.name).toEqual(prompt.ids);
    }
  });

  const single = goldens.generation.filter((generation) => generation.prompts.length === 1);
  it.each(
    single.map(
      (generation) =>
        [
          `${generation.mode}${generation.length_penalty ?? ''} ${generation.prompts[0]}`,
          generation,
        ] as const,
    ),
  )('matches the reference token for token: %s', async (_name, generation) => {
    const result = await engine.generateText(
      await requestFor(promptNamed(generation.prompts[0] as string), generation),
    );
    expect(result.tokenIds).toEqual(generation.tokens[0]);
    expect(result.text).toBe(generation.text[0]);
  });

  const batched = goldens.generation.filter((generation) => generation.prompts.length > 1);
  it.each(
    batched.map(
      (generation) => [`${generation.mode}${generation.length_penalty ?? ''}`, generation] as const,
    ),
  )('gives each of several concurrent requests exactly its own answer: %s', async (_name, generation) => {
    const requests = await Promise.all(
      generation.prompts.map((name) => requestFor(promptNamed(name), generation)),
    );
    const results = await Promise.all(requests.map((request) => engine.generateText(request)));
    expect(results.map((result) => result.tokenIds)).toEqual(generation.tokens);
  });

  it('lets requests join a batch that is already running', async () => {
    const greedy = goldens.generation.filter(
      (generation) => generation.mode === 'greedy' && generation.prompts.length === 1,
    );
    const long = { ...(await requestFor(promptNamed('three-images'), greedy[0] as GoldenGeneration)) };
    const rest = greedy.slice(1);
    const running = engine.generateText({ ...long, settings: { ...long.settings, maxNewTokens: 40 } });
    const late = await Promise.all(
      rest.map(async (generation) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return engine.generateText(
          await requestFor(promptNamed(generation.prompts[0] as string), generation),
        );
      }),
    );
    expect(late.map((result) => result.tokenIds)).toEqual(rest.map((generation) => generation.tokens[0]));
    expect((await running).tokenIds.slice(0, 8)).toEqual(
      goldens.generation.find(
        (generation) => generation.mode === 'greedy' && generation.prompts[0] === 'three-images',
      )?.tokens[0],
    );
  });

  it('takes a request submitted the moment the previous one is answered', async () => {
    const generation = single.find((candidate) => candidate.mode === 'greedy') as GoldenGeneration;
    const request = await requestFor(promptNamed(generation.prompts[0] as string), generation);
    const one = { ...request, settings: { ...request.settings, maxNewTokens: 1 } };
    for (let round = 0; round < 3; round++) {
      expect((await engine.generateText(one)).tokenIds).toEqual(generation.tokens[0]?.slice(0, 1));
    }
  });

  it('streams greedy text whose pieces add up to the answer', async () => {
    const generation = single.find((candidate) => candidate.mode === 'greedy') as GoldenGeneration;
    const deltas: string[] = [];
    const result = await engine.generateText(
      await requestFor(promptNamed(generation.prompts[0] as string), generation),
      {
        onText: (delta) => deltas.push(delta),
      },
    );
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(result.text);
  });

  it('stops between steps when aborted', async () => {
    const generation = single[0] as GoldenGeneration;
    const controller = new AbortController();
    const request = await requestFor(promptNamed(generation.prompts[0] as string), generation);
    let pieces = 0;
    const running = engine.generateText(
      { ...request, settings: { ...request.settings, numBeams: 1, maxNewTokens: 500 } },
      {
        signal: controller.signal,
        onText: () => {
          pieces++;
          if (pieces === 3) controller.abort();
        },
      },
    );
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pieces).toBeLessThan(10);
  });

  it('refuses a prompt that leaves no room for the answer', async () => {
    const generation = single[0] as GoldenGeneration;
    const request = await requestFor(promptNamed('text-only'), generation);
    const failure = await engine
      .generateText({ ...request, prompt: 'word '.repeat(3000) })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmuBotError);
    expect((failure as EmuBotError).code).toBe('PROMPT_TOO_LONG');
  });
});
