import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The inference thread runs compiled JavaScript, so this test drives the build (npm test builds first).
import { startEngineThread } from '../../../dist/engine/index.js';
import type { Engine, TextRequest } from '../../../src/engine/requests.js';
import { cpuSettings, fixtureBundles, imagePlaceholder, readGoldens } from '../helpers.js';

const goldens = readGoldens('tiny-instruct');
const greedy = goldens.generation.find(
  (generation) => generation.mode === 'greedy' && generation.prompts[0] === 'text-only',
);
const prompt = goldens.prompts.find((candidate) => candidate.name === 'text-only');

let engine: Engine;
beforeAll(async () => {
  engine = await startEngineThread({
    bundles: { instruct: join(fixtureBundles, 'tiny-instruct') },
    sessions: cpuSettings,
    maxBatchRows: 8,
  });
});
afterAll(async () => {
  await engine.close();
});

function request(maxNewTokens: number): TextRequest {
  if (prompt === undefined) throw new Error('missing golden');
  return {
    model: 'instruct',
    prompt: prompt.text.split(prompt.image_placeholder).join(imagePlaceholder(32)),
    images: [],
    settings: { maxNewTokens, numBeams: 1, lengthPenalty: 1, minLength: 1, repetitionPenalty: 1 },
  };
}

describe('startEngineThread', () => {
  it('answers from another thread exactly as the engine does in this one', async () => {
    expect(isMainThread).toBe(true);
    expect(engine.models).toEqual(['instruct']);
    const deltas: string[] = [];
    const result = await engine.generateText(request(8), { onText: (delta) => deltas.push(delta) });
    expect(result.tokenIds).toEqual(greedy?.tokens[0]);
    expect(deltas.join('')).toBe(result.text);
  });

  it('carries errors across with their code and polite message', async () => {
    const failure = await engine
      .generateText({ ...request(8), model: 'pretrain' })
      .catch((error: { code: string; userMessage: string }) => error);
    expect(failure).toMatchObject({ code: 'INTERNAL' });
    const tooLong = await engine
      .generateText({ ...request(8), prompt: 'word '.repeat(3000) })
      .catch((error: { code: string; userMessage: string }) => error);
    expect(tooLong).toMatchObject({ code: 'PROMPT_TOO_LONG' });
    expect((tooLong as { userMessage: string }).userMessage).toContain('too long');
  });

  it('cancels a running request through its signal', async () => {
    const controller = new AbortController();
    let pieces = 0;
    const running = engine.generateText(request(1000), {
      signal: controller.signal,
      onText: () => {
        pieces++;
        if (pieces === 2) controller.abort();
      },
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    // The thread is still serving afterwards.
    expect((await engine.generateText(request(8))).tokenIds).toEqual(greedy?.tokens[0]);
  });

  it('reports a bundle that cannot load instead of starting', async () => {
    await expect(
      startEngineThread({
        bundles: { instruct: join(fixtureBundles, 'missing') },
        sessions: cpuSettings,
        maxBatchRows: 8,
      }),
    ).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });
});
