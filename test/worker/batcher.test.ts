import { describe, expect, it } from 'vitest';
import type { Engine, ImageRequest, TextRequest } from '../../src/engine/index.js';
import { Batcher, type EngineTask } from '../../src/worker/index.js';

/** An engine that records which requests run at the same time. */
function recordingEngine() {
  const active = new Set<string>();
  const together: string[][] = [];
  const run = async (prompt: string, signal: AbortSignal | undefined) => {
    active.add(prompt);
    together.push([...active].sort());
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 30);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    active.delete(prompt);
  };
  const engine: Engine = {
    models: ['instruct', 'pretrain'],
    async generateText(request, options) {
      await run(request.prompt, options?.signal);
      return { text: request.prompt, tokenIds: [], promptTokens: 0, finishReason: 'eos' };
    },
    async generateImage(request, options) {
      await run(request.prompt, options?.signal);
      return { png: new Uint8Array(), flagged: false };
    },
    async close() {},
  };
  return { engine, together };
}

const textSettings = { maxNewTokens: 8, numBeams: 1, lengthPenalty: 0, minLength: 1, repetitionPenalty: 1 };
const text = (prompt: string, maxNewTokens = 8): EngineTask => ({
  kind: 'text',
  request: {
    model: 'instruct',
    prompt,
    images: [],
    settings: { ...textSettings, maxNewTokens },
  } as TextRequest,
});
const image = (prompt: string, seed: number): EngineTask => ({
  kind: 'image',
  request: {
    model: 'pretrain',
    prompt,
    images: [],
    settings: { seed, steps: 2, guidanceScale: 7.5, width: 64, height: 64 },
  } as ImageRequest,
});

describe('Batcher', () => {
  it('runs compatible tasks together up to the batch size, and never mixes kinds or settings', async () => {
    const { engine, together } = recordingEngine();
    const batcher = new Batcher(engine, { batchSize: 2, windowMs: 20 });
    const outputs = await Promise.all(
      [text('t1'), image('i1', 1), text('t2'), text('t3'), image('i2', 2), text('long', 64)].map((task) =>
        batcher.run(task, {}),
      ),
    );
    // One batch at a time, oldest first: two texts, the two images (seeds differ, settings
    // agree), the third text alone (its partner has other settings), then the odd one.
    const groups = together.filter((group, index) => (together[index + 1]?.length ?? 0) <= group.length);
    expect(groups).toEqual([['t1', 't2'], ['i1', 'i2'], ['t3'], ['long']]);
    // A job's share of the engine's time is its run time over its batch's size.
    const [t1, , , t3] = outputs;
    expect(t1?.perJobMs).toBeCloseTo((t1?.runMs ?? 0) / 2);
    expect(t3?.perJobMs).toBe(t3?.runMs);
  });

  it('lets a task whose signal aborts while it waits leave without running', async () => {
    const { engine, together } = recordingEngine();
    const batcher = new Batcher(engine, { batchSize: 1, windowMs: 0 });
    const first = batcher.run(text('first'), {});
    const abort = new AbortController();
    const second = batcher.run(text('second'), { signal: abort.signal });
    abort.abort(new Error('cancelled'));
    await expect(second).rejects.toThrow('cancelled');
    await first;
    expect(together.flat()).not.toContain('second');
  });
});
