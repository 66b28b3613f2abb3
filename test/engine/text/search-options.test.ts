import { describe, expect, it } from 'vitest';
import type { TextGenerationSettings } from '../../../src/engine/requests.js';
import { searchOptions } from '../../../src/engine/text/prepare-text.js';
import { type GoldenCase, generateBatch, readGenerationGoldens, ToyModel } from '../generation/toy-model.js';

const goldens = readGenerationGoldens();
const model = new ToyModel(goldens.model);
const tokenizer = { bosTokenId: goldens.model.bosTokenId, eosTokenId: goldens.model.eosTokenId };
type BeamCase = (typeof goldens.beam)[number];

function settingsOf(golden: GoldenCase<unknown>): TextGenerationSettings {
  const { options } = golden;
  return {
    maxNewTokens: options['maxNewTokens'] as number,
    numBeams: options['numBeams'] as number,
    lengthPenalty: options['lengthPenalty'] as number,
    minLength: options['minLength'] as number,
    repetitionPenalty: options['repetitionPenalty'] as number,
    earlyStopping: options['earlyStopping'] as boolean,
  };
}

/**
 * transformers 4.29 beam cases, with and without early_stopping, whose best answers differ (how
 * many hypotheses a case returned does not change the search, only how much of it is kept).
 */
function casesWhereEarlyStoppingMatters(): { stopping: BeamCase; running: BeamCase }[] {
  const key = (golden: BeamCase) =>
    JSON.stringify([golden.prompts, { ...golden.options, earlyStopping: null }]);
  const best = (golden: BeamCase) => JSON.stringify(golden.outputs.map((row) => row[0]?.tokens));
  const withoutEarly = new Map(
    goldens.beam.filter((golden) => golden.options['earlyStopping'] === false).map((g) => [key(g), g]),
  );
  return goldens.beam.flatMap((stopping) => {
    const running = withoutEarly.get(key(stopping));
    if (stopping.options['earlyStopping'] !== true || (stopping.options['numBeams'] as number) < 2) return [];
    if (running === undefined) return [];
    return best(stopping) === best(running) ? [] : [{ stopping, running }];
  });
}

describe('text settings to search options', () => {
  it('passes early stopping to beam search, off unless asked for', () => {
    const settings = { maxNewTokens: 4, numBeams: 3, lengthPenalty: 1, minLength: 1, repetitionPenalty: 1 };
    expect(searchOptions(settings, tokenizer, undefined)).toMatchObject({
      strategy: 'beam',
      earlyStopping: false,
    });
    expect(searchOptions({ ...settings, earlyStopping: true }, tokenizer, undefined)).toMatchObject({
      strategy: 'beam',
      earlyStopping: true,
    });
  });

  it('gives the reference best answer with early_stopping on and off, where it changes the answer', () => {
    const pairs = casesWhereEarlyStoppingMatters();
    expect(pairs.length).toBeGreaterThanOrEqual(10);
    for (const { stopping, running } of pairs) {
      for (const golden of [stopping, running]) {
        const options = searchOptions(settingsOf(golden), tokenizer, undefined);
        const results = generateBatch(
          model,
          golden.prompts.map((prompt) => ({ prompt, options })),
        );
        expect(
          results.map((result) => result.sequences[0]?.tokenIds),
          JSON.stringify(golden.options),
        ).toEqual(golden.outputs.map((row) => row[0]?.tokens));
      }
    }
  });
});
