import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createSearch,
  type GenerationOptions,
  type GenerationResult,
  type SearchStrategy,
} from '../../../src/engine/generation/index.js';

/** The toy model of tools/fixtures/make_generation_goldens.py, its tables read from the goldens. */
export interface ToyModelTables {
  readonly vocabSize: number;
  readonly positions: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly countWeight: number;
  readonly transitions: number[];
  readonly positional: number[];
}

export interface GenerationGoldens {
  readonly model: ToyModelTables;
  readonly greedy: readonly GoldenCase<number[]>[];
  readonly beam: readonly GoldenCase<{ readonly tokens: number[]; readonly score: number }[]>[];
}

export interface GoldenCase<Output> {
  readonly prompts: number[][];
  readonly options: Record<string, number | boolean>;
  readonly outputs: Output[];
}

export function readGenerationGoldens(): GenerationGoldens {
  const path = join(import.meta.dirname, '../../fixtures/generation/goldens.json');
  return JSON.parse(readFileSync(path, 'utf8')) as GenerationGoldens;
}

/**
 * logits[t] = (A[last, t] + B[position, t]) + c * count(t), each operation rounded to float32 as
 * PyTorch does, at the last position of a row holding `history` (prompt and generated tokens).
 */
export class ToyModel {
  readonly #tables: ToyModelTables;
  readonly #transitions: Float32Array;
  readonly #positional: Float32Array;
  readonly #countWeight: number;

  constructor(tables: ToyModelTables) {
    this.#tables = tables;
    this.#transitions = Float32Array.from(tables.transitions);
    this.#positional = Float32Array.from(tables.positional);
    this.#countWeight = Math.fround(tables.countWeight);
  }

  get vocabSize(): number {
    return this.#tables.vocabSize;
  }

  /** Logits [rows, vocabulary] for the rows' histories, as one batch. */
  forward(rows: readonly (readonly number[])[]): Float32Array {
    const vocab = this.#tables.vocabSize;
    const logits = new Float32Array(rows.length * vocab);
    const counts = new Float32Array(vocab);
    rows.forEach((history, row) => {
      counts.fill(0);
      for (const token of history) counts[token] = (counts[token] ?? 0) + 1;
      const last = history.at(-1) ?? 0;
      const position = history.length - 1;
      for (let token = 0; token < vocab; token += 1) {
        const base = Math.fround(
          (this.#transitions[last * vocab + token] ?? 0) + (this.#positional[position * vocab + token] ?? 0),
        );
        logits[row * vocab + token] = base + Math.fround(this.#countWeight * (counts[token] ?? 0));
      }
    });
    return logits;
  }
}

/**
 * A stand-in for the session layer: several requests batched into one model call per step, each
 * request's "cache" being its rows' histories, reordered by `sourceRows` exactly as a KV cache
 * would be. Requests leave the batch when their search is done.
 */
export function generateBatch(
  model: ToyModel,
  requests: readonly { prompt: number[]; options: GenerationOptions }[],
) {
  const live = requests.map(({ prompt, options }) => ({ search: createSearch(options), rows: [prompt] }));
  let active = live;
  while (active.length > 0) {
    const logits = model.forward(active.flatMap((request) => request.rows));
    let offset = 0;
    for (const request of active) {
      const width = request.rows.length * model.vocabSize;
      if (request.rows.length !== request.search.rowsExpected) throw new Error('row count out of step');
      request.search.consume(logits.subarray(offset, offset + width));
      offset += width;
    }
    active = active.filter((request) => !request.search.isDone());
    for (const request of active) feedNextTokens(request);
  }
  return live.map((request): GenerationResult => request.search.result());
}

function feedNextTokens(request: { search: SearchStrategy; rows: number[][] }): void {
  const { tokenIds, sourceRows } = request.search.nextInputs();
  const kept =
    sourceRows === null ? request.rows : Array.from(sourceRows, (source) => request.rows[source] ?? []);
  request.rows = kept.map((history, row) => [...history, tokenIds[row] ?? -1]);
}
