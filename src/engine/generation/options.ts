import { EmuBotError } from '../../core/index.js';
import type { TokenStreamer } from './token-streamer.js';

/** What every strategy takes; lengths count as transformers 4.29 counts them for Emu. */
export interface CommonGenerationOptions {
  readonly maxNewTokens: number;
  /** 4.29's min_length: the BOS column plus the generated tokens; EOS is blocked below it. Default 1. */
  readonly minLength?: number;
  /** Default 1 (off). Applies to the BOS column and the generated tokens, never to the prompt. */
  readonly repetitionPenalty?: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly streamer?: TokenStreamer;
}

export interface GreedyOptions extends CommonGenerationOptions {
  readonly strategy: 'greedy';
}

export interface SamplingOptions extends CommonGenerationOptions {
  readonly strategy: 'sample';
  /** An integer in [0, 2^32): the same seed and inputs give the same answer. */
  readonly seed: number;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
}

export interface BeamSearchOptions extends CommonGenerationOptions {
  readonly strategy: 'beam';
  readonly numBeams: number;
  /** Scores are divided by (1 + generated tokens) ** lengthPenalty. Default 1, as in 4.29. */
  readonly lengthPenalty?: number;
  /** Stop as soon as numBeams hypotheses are finished, as 4.29's early_stopping=True. Default false. */
  readonly earlyStopping?: boolean;
  /** How many of the best hypotheses to return, at most numBeams. Default 1. */
  readonly numReturnSequences?: number;
}

export type GenerationOptions = GreedyOptions | SamplingOptions | BeamSearchOptions;

/**
 * Rejects options no strategy can honour. The configuration schema should already keep people's
 * values in range, so a failure here is a bug in the caller: INTERNAL, naming the option.
 */
export function checkGenerationOptions(options: GenerationOptions): void {
  const require = (valid: boolean, name: string, expected: string, value: unknown): void => {
    if (!valid)
      throw new EmuBotError(
        'INTERNAL',
        `generation option ${name}: found ${String(value)}, expected ${expected}`,
      );
  };
  const isCount = (value: number, least: number): boolean => Number.isInteger(value) && value >= least;
  require(isCount(options.maxNewTokens, 1), 'maxNewTokens', 'an integer of at least 1', options.maxNewTokens);
  require(isCount(options.minLength ?? 1, 0), 'minLength', 'an integer of at least 0', options.minLength);
  const penalty = options.repetitionPenalty ?? 1;
  require(penalty > 0 && Number.isFinite(penalty), 'repetitionPenalty', 'a positive number', penalty);
  require(isCount(options.bosTokenId, 0), 'bosTokenId', 'a token id', options.bosTokenId);
  require(isCount(options.eosTokenId, 0), 'eosTokenId', 'a token id', options.eosTokenId);
  if (options.strategy === 'sample') {
    require(isCount(options.seed, 0) &&
      options.seed < 2 ** 32, 'seed', 'an integer in [0, 2^32)', options.seed);
    const temperature = options.temperature ?? 1;
    require(temperature > 0 && Number.isFinite(temperature), 'temperature', 'a positive number', temperature);
    require(isCount(options.topK ?? 0, 0), 'topK', 'an integer of at least 0', options.topK);
    const topP = options.topP ?? 1;
    require(topP > 0 && topP <= 1, 'topP', 'a number in (0, 1]', topP);
  }
  if (options.strategy === 'beam') {
    require(isCount(options.numBeams, 1), 'numBeams', 'an integer of at least 1', options.numBeams);
    const returned = options.numReturnSequences ?? 1;
    require(isCount(returned, 1) &&
      returned <= options.numBeams, 'numReturnSequences', `1 to ${options.numBeams}`, returned);
    require(Number.isFinite(
      options.lengthPenalty ?? 1,
    ), 'lengthPenalty', 'a finite number', options.lengthPenalty);
  }
}
