import { describe, expect, it } from 'vitest';
import type { GenerationOptions } from '../../../src/engine/generation/index.js';
import { type GoldenCase, generateBatch, readGenerationGoldens, ToyModel } from './toy-model.js';

const goldens = readGenerationGoldens();
const model = new ToyModel(goldens.model);
const tokenIds = { bosTokenId: goldens.model.bosTokenId, eosTokenId: goldens.model.eosTokenId };

function describeCase(index: number, golden: GoldenCase<unknown>): string {
  return `case ${index} prompts ${JSON.stringify(golden.prompts)} options ${JSON.stringify(golden.options)}`;
}

describe('search strategies against transformers 4.29 (toy model goldens)', () => {
  it('greedy: token for token, single and batched', () => {
    const mismatches = goldens.greedy.flatMap((golden, index) => {
      const options = { ...golden.options, ...tokenIds, strategy: 'greedy' } as GenerationOptions;
      const results = generateBatch(
        model,
        golden.prompts.map((prompt) => ({ prompt, options })),
      );
      return results.flatMap((result, row) => {
        const actual = result.sequences[0]?.tokenIds ?? [];
        const expected = golden.outputs[row] ?? [];
        return JSON.stringify(actual) === JSON.stringify(expected)
          ? []
          : [
              `${describeCase(index, golden)} row ${row}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
            ];
      });
    });
    expect(mismatches).toEqual([]);
  });

  it('beam search: every hypothesis token for token, scores within 1e-4, single and batched', () => {
    const mismatches = goldens.beam.flatMap((golden, index) => {
      const options = { ...golden.options, ...tokenIds, strategy: 'beam' } as GenerationOptions;
      const results = generateBatch(
        model,
        golden.prompts.map((prompt) => ({ prompt, options })),
      );
      return results.flatMap((result, row) => {
        const actual = result.sequences.map((sequence) => ({
          tokens: sequence.tokenIds,
          score: sequence.score ?? Number.NaN,
        }));
        const expected = golden.outputs[row] ?? [];
        const same =
          actual.length === expected.length &&
          actual.every(
            (hypothesis, rank) =>
              JSON.stringify(hypothesis.tokens) === JSON.stringify(expected[rank]?.tokens) &&
              Math.abs(hypothesis.score - (expected[rank]?.score ?? Number.NaN)) <= 1e-4,
          );
        return same
          ? []
          : [
              `${describeCase(index, golden)} row ${row}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
            ];
      });
    });
    expect(mismatches).toEqual([]);
  });

  it('the goldens reach EOS, run out of length, and mix finished and open hypotheses', () => {
    const eos = goldens.model.eosTokenId;
    const greedyRows = goldens.greedy.flatMap((golden) => golden.outputs);
    expect(greedyRows.some((row) => row.at(-1) === eos)).toBe(true);
    expect(greedyRows.some((row) => row.at(-1) !== eos)).toBe(true);
    const beamRows = goldens.beam.flatMap((golden) => golden.outputs);
    const mixed = beamRows.filter(
      (hypotheses) =>
        hypotheses.some((h) => h.tokens.at(-1) === eos) && hypotheses.some((h) => h.tokens.at(-1) !== eos),
    );
    expect(mixed.length).toBeGreaterThan(0);
    expect(goldens.beam.some((golden) => golden.prompts.length > 1)).toBe(true);
  });
});
