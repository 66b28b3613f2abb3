import { describe, expect, it } from 'vitest';
import { isEmuBotError } from '../../../src/core/index.js';
import { createSearch, type GenerationOptions, runSearch } from '../../../src/engine/generation/index.js';
import { readGenerationGoldens, ToyModel } from './toy-model.js';

const goldens = readGenerationGoldens();
const model = new ToyModel(goldens.model);
const base = { bosTokenId: 1, eosTokenId: 2, maxNewTokens: 14 } as const;

/** runSearch over the toy model, the step function keeping the rows as a session keeps its cache. */
function runOnToy(options: GenerationOptions, prompt: number[], signal?: AbortSignal) {
  let rows = [prompt];
  const sourceRowsSeen: number[][] = [];
  const result = runSearch(
    createSearch(options),
    model.forward(rows),
    async ({ tokenIds, sourceRows }) => {
      sourceRowsSeen.push(sourceRows === null ? [] : [...sourceRows]);
      rows = Array.from(tokenIds, (token, row) => [...(rows[sourceRows?.[row] ?? row] ?? []), token]);
      return model.forward(rows);
    },
    signal,
  );
  return { result, sourceRowsSeen };
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('runSearch', () => {
  it('gives the greedy golden, and sampling with top-k 1 gives the same', async () => {
    const golden = goldens.greedy.find((c) => c.prompts.length === 1 && c.options['maxNewTokens'] === 14);
    const prompt = golden?.prompts[0] ?? [];
    const options = {
      ...base,
      minLength: Number(golden?.options['minLength']),
      repetitionPenalty: Number(golden?.options['repetitionPenalty']),
    };
    const greedy = await runOnToy({ ...options, strategy: 'greedy' }, prompt).result;
    const sampled = await runOnToy({ ...options, strategy: 'sample', seed: 9, topK: 1 }, prompt).result;
    expect(greedy.sequences[0]?.tokenIds).toEqual(golden?.outputs[0]);
    expect(sampled.sequences[0]?.tokenIds).toEqual(golden?.outputs[0]);
  });

  it('replays a seeded sampling run exactly', async () => {
    const options: GenerationOptions = {
      ...base,
      strategy: 'sample',
      seed: 1234,
      temperature: 1.5,
      topP: 0.95,
    };
    const first = await runOnToy(options, [1, 7]).result;
    const second = await runOnToy(options, [1, 7]).result;
    expect(first).toEqual(second);
    const other = await runOnToy({ ...options, seed: 99 }, [1, 7]).result;
    expect(other.sequences[0]?.tokenIds).not.toEqual(first.sequences[0]?.tokenIds);
  });

  it('tells the caller to expand the prompt row to every beam, then to reorder', async () => {
    const { result, sourceRowsSeen } = runOnToy({ ...base, strategy: 'beam', numBeams: 3 }, [1, 12, 5, 30]);
    await result;
    expect(sourceRowsSeen[0]).toEqual([0, 0, 0]);
    expect(
      sourceRowsSeen.every((rows) => rows.length === 3 && rows.every((row) => row >= 0 && row < 3)),
    ).toBe(true);
    expect(sourceRowsSeen.some((rows) => rows.join() !== '0,1,2')).toBe(true);
  });

  it('stops with ABORTED between steps once the signal fires', async () => {
    const controller = new AbortController();
    let steps = 0;
    const search = createSearch({ ...base, strategy: 'greedy' });
    const run = runSearch(
      search,
      model.forward([[1]]),
      async ({ tokenIds }) => {
        steps += 1;
        if (steps === 2) controller.abort(new Error('user left'));
        return model.forward([[1, tokenIds[0] ?? 0]]);
      },
      controller.signal,
    );
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    expect(steps).toBe(2);
    expect(search.isDone()).toBe(false);
  });

  it('does not start when the signal has already fired', async () => {
    const run = runOnToy({ ...base, strategy: 'greedy' }, [1], AbortSignal.abort()).result;
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('createSearch', () => {
  it.each([
    [{ ...base, strategy: 'greedy', maxNewTokens: 0 }, /maxNewTokens: found 0/],
    [{ ...base, strategy: 'sample', seed: -1 }, /seed: found -1/],
    [{ ...base, strategy: 'sample', seed: 1, temperature: 0 }, /temperature: found 0/],
    [{ ...base, strategy: 'sample', seed: 1, topP: 0 }, /topP: found 0/],
    [
      { ...base, strategy: 'beam', numBeams: 2, numReturnSequences: 3 },
      /numReturnSequences: found 3, expected 1 to 2/,
    ],
    [{ ...base, strategy: 'greedy', repetitionPenalty: 0 }, /repetitionPenalty: found 0/],
  ] as const)('rejects impossible options (%#)', (options, message) => {
    const error = catchError(() => createSearch(options as GenerationOptions));
    expect(isEmuBotError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses logits of the wrong shape and calls out of order', () => {
    const beam = createSearch({ ...base, strategy: 'beam', numBeams: 2 });
    expect(() => beam.nextInputs()).toThrow(/before the first consume/);
    beam.consume(model.forward([[1]]));
    expect(beam.rowsExpected).toBe(2);
    expect(() => beam.consume(model.forward([[1, 4]]))).toThrow(/expected 2 rows of logits, got 40 values/);
    const greedy = createSearch({ ...base, strategy: 'greedy', maxNewTokens: 1 });
    expect(() => greedy.result()).toThrow(/before the search finished/);
    greedy.consume(model.forward([[1]]));
    expect(greedy.isDone()).toBe(true);
    expect(greedy.result().sequences[0]?.finishReason).toBe('length');
    expect(() => greedy.consume(model.forward([[1]]))).toThrow(/after the search finished/);
  });
});
