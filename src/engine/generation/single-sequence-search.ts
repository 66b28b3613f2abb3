import { EmuBotError } from '../../core/index.js';
import { applyMinLength, argmax, RepetitionPenalty } from './logits-processors.js';
import type { GreedyOptions, SamplingOptions } from './options.js';
import { Sampler } from './sampler.js';
import type { FinishReason, GenerationResult, SearchStrategy, StepInputs } from './search-strategy.js';

/** Picks the next token from one processed row of logits. */
type ChooseToken = (row: Float32Array) => number;

/**
 * Greedy search and sampling: one row, one token per step, stopping at EOS or after
 * maxNewTokens, as transformers 4.29's greedy_search and sample loops do for one prompt. Each
 * token goes to the streamer as soon as it is chosen.
 */
export class SingleSequenceSearch implements SearchStrategy {
  readonly rowsExpected = 1;
  readonly #options: GreedyOptions | SamplingOptions;
  readonly #choose: ChooseToken;
  readonly #penalty: RepetitionPenalty;
  readonly #generated: number[] = [];
  readonly #inputs = { tokenIds: new Int32Array(1), sourceRows: null };
  #finishReason: FinishReason | undefined;
  #vocabularySize = 0;

  constructor(options: GreedyOptions | SamplingOptions, choose: ChooseToken) {
    this.#options = options;
    this.#choose = choose;
    this.#penalty = new RepetitionPenalty(options.repetitionPenalty ?? 1);
  }

  static greedy(options: GreedyOptions): SingleSequenceSearch {
    return new SingleSequenceSearch(options, argmax);
  }

  static sampling(options: SamplingOptions): SingleSequenceSearch {
    const sampler = new Sampler(
      { temperature: options.temperature ?? 1, topK: options.topK ?? 0, topP: options.topP ?? 1 },
      options.seed,
    );
    return new SingleSequenceSearch(options, (row) => sampler.sample(row));
  }

  consume(logits: Float32Array): void {
    if (this.#finishReason !== undefined)
      throw new EmuBotError('INTERNAL', 'consume called after the search finished');
    if (this.#vocabularySize === 0) this.#vocabularySize = logits.length;
    if (logits.length !== this.#vocabularySize) {
      throw new EmuBotError(
        'INTERNAL',
        `expected ${this.#vocabularySize} logits for one row, got ${logits.length}`,
      );
    }
    const { bosTokenId, eosTokenId, maxNewTokens, minLength = 1, streamer } = this.#options;
    this.#penalty.apply(logits, bosTokenId, this.#generated);
    applyMinLength(logits, this.#generated.length, minLength, eosTokenId);
    const token = this.#choose(logits);
    this.#generated.push(token);
    this.#inputs.tokenIds[0] = token;
    if (token === eosTokenId) this.#finishReason = 'eos';
    else {
      streamer?.put(token);
      if (this.#generated.length >= maxNewTokens) this.#finishReason = 'length';
    }
    if (this.#finishReason !== undefined) streamer?.end();
  }

  isDone(): boolean {
    return this.#finishReason !== undefined;
  }

  nextInputs(): StepInputs {
    if (this.#generated.length === 0 || this.isDone()) {
      throw new EmuBotError(
        'INTERNAL',
        'nextInputs called before the first consume or after the search finished',
      );
    }
    return this.#inputs;
  }

  result(): GenerationResult {
    if (this.#finishReason === undefined)
      throw new EmuBotError('INTERNAL', 'result called before the search finished');
    return { sequences: [{ tokenIds: [...this.#generated], score: null, finishReason: this.#finishReason }] };
  }
}
