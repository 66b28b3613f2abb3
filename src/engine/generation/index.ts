export { BeamSearch } from './beam-search.js';
export {
  type BeamSearchOptions,
  type CommonGenerationOptions,
  checkGenerationOptions,
  type GenerationOptions,
  type GreedyOptions,
  type SamplingOptions,
} from './options.js';
export { Xoshiro128StarStar } from './random.js';
export { createSearch, type RunStep, runSearch, throwIfAborted } from './run-search.js';
export { Sampler, type SamplingParameters } from './sampler.js';
export type {
  FinishReason,
  GeneratedSequence,
  GenerationResult,
  SearchStrategy,
  StepInputs,
} from './search-strategy.js';
export { SingleSequenceSearch } from './single-sequence-search.js';
export { TextStreamer, type TokenStreamer } from './token-streamer.js';
