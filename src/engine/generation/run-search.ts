import { EmuBotError } from '../../core/index.js';
import { BeamSearch } from './beam-search.js';
import { checkGenerationOptions, type GenerationOptions } from './options.js';
import type { GenerationResult, SearchStrategy, StepInputs } from './search-strategy.js';
import { SingleSequenceSearch } from './single-sequence-search.js';

/** The strategy the options name, after checking them. */
export function createSearch(options: GenerationOptions): SearchStrategy {
  checkGenerationOptions(options);
  switch (options.strategy) {
    case 'greedy':
      return SingleSequenceSearch.greedy(options);
    case 'sample':
      return SingleSequenceSearch.sampling(options);
    case 'beam':
      return new BeamSearch(options);
  }
}

/** Throws ABORTED if the signal has fired; call it between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new EmuBotError('ABORTED', 'generation was cancelled between steps', { cause: signal.reason });
  }
}

/**
 * Runs one model step: reorder the cache rows as `inputs.sourceRows` says, feed `inputs.tokenIds`,
 * return the last position's logits [rows, vocabulary].
 */
export type RunStep = (inputs: StepInputs) => Promise<Float32Array>;

/**
 * The generator loop for a request that has the model to itself: `promptLogits` are the prompt's
 * last-position logits (one row); `runStep` does the rest. A session that batches requests runs
 * the same loop over all of them, checking each request's signal between steps.
 */
export async function runSearch(
  search: SearchStrategy,
  promptLogits: Float32Array,
  runStep: RunStep,
  signal?: AbortSignal,
): Promise<GenerationResult> {
  throwIfAborted(signal);
  search.consume(promptLogits);
  while (!search.isDone()) {
    throwIfAborted(signal);
    search.consume(await runStep(search.nextInputs()));
  }
  return search.result();
}
