import { EmuBotError } from '../../core/index.js';
import { BeamHypotheses } from './beam-hypotheses.js';
import { applyMinLength, logSumExp, RepetitionPenalty, subtractInPlace } from './logits-processors.js';
import type { BeamSearchOptions } from './options.js';
import type { GenerationResult, SearchStrategy, StepInputs } from './search-strategy.js';
import { TopCandidates } from './top-candidates.js';

/** 4.29 starts every beam but the first at this score, so the first step expands beam 0 only. */
const startingScoreOfOtherBeams = -1e9;
/** A relative bound, with room to spare, on float32 rounding in a candidate's score (see #collectCandidates). */
const roundingMargin = 2 ** -22;

/**
 * transformers 4.29's beam search (beam_search with BeamSearchScorer) for one request: per step,
 * log_softmax, the processors, plus the beam scores (float32), the top 2 * numBeams over all beams,
 * EOS candidates ranked within the first numBeams finished as hypotheses, the others continuing;
 * is_done, then `finalize` at maxNewTokens. The text goes to the streamer at the end.
 *
 * The first `consume` takes the prompt's single row: 4.29 runs numBeams identical copies of it,
 * which this reproduces by scoring that row once per beam, so the session prefills one row and
 * copies its cache (sourceRows all 0) instead of running the prompt numBeams times.
 */
export class BeamSearch implements SearchStrategy {
  readonly #options: BeamSearchOptions;
  readonly #numBeams: number;
  readonly #penalty: RepetitionPenalty;
  readonly #hypotheses: BeamHypotheses;
  readonly #candidates: TopCandidates;
  readonly #beamScores: Float32Array;
  /** Per row, what to subtract from its logits to get log-probabilities (0 once done in place). */
  readonly #shifts: Float64Array;
  #beams: (readonly number[])[];
  readonly #inputs: { readonly tokenIds: Int32Array; readonly sourceRows: Int32Array };
  #rowsExpected = 1;
  #vocabularySize = 0;
  #generatedCount = 0;
  #started = false;
  #done = false;

  constructor(options: BeamSearchOptions) {
    this.#options = options;
    this.#numBeams = options.numBeams;
    this.#penalty = new RepetitionPenalty(options.repetitionPenalty ?? 1);
    this.#hypotheses = new BeamHypotheses(
      options.numBeams,
      options.lengthPenalty ?? 1,
      options.earlyStopping ?? false,
    );
    this.#candidates = new TopCandidates(2 * options.numBeams);
    this.#beamScores = new Float32Array(options.numBeams).fill(startingScoreOfOtherBeams);
    this.#beamScores[0] = 0;
    this.#shifts = new Float64Array(options.numBeams);
    this.#beams = Array.from({ length: options.numBeams }, () => []);
    this.#inputs = {
      tokenIds: new Int32Array(options.numBeams),
      sourceRows: new Int32Array(options.numBeams),
    };
  }

  get rowsExpected(): number {
    return this.#rowsExpected;
  }

  consume(logits: Float32Array): void {
    if (this.#done) throw new EmuBotError('INTERNAL', 'consume called after the search finished');
    const rows = this.#rowsExpected;
    if (this.#vocabularySize === 0) this.#vocabularySize = logits.length / rows;
    const vocabularySize = this.#vocabularySize;
    if (!Number.isInteger(vocabularySize) || logits.length !== rows * vocabularySize) {
      throw new EmuBotError('INTERNAL', `expected ${rows} rows of logits, got ${logits.length} values`);
    }
    const { bosTokenId, eosTokenId, minLength = 1 } = this.#options;
    const blocksEos = 1 + this.#generatedCount < minLength;
    for (let row = 0; row < rows; row += 1) {
      const scores = logits.subarray(row * vocabularySize, (row + 1) * vocabularySize);
      const shift = logSumExp(scores);
      // Without processors the log-probabilities are never written out: the scan derives them.
      const processed = this.#penalty.active || blocksEos;
      this.#shifts[row] = processed ? 0 : shift;
      if (processed) {
        subtractInPlace(scores, shift);
        this.#penalty.apply(scores, bosTokenId, this.#beams[row] ?? []);
        applyMinLength(scores, this.#generatedCount, minLength, eosTokenId);
      }
    }
    this.#collectCandidates(logits, rows, vocabularySize);
    this.#advance(rows, vocabularySize);
    this.#started = true;
  }

  /**
   * The best 2 * numBeams of fround(fround(x - shift) + beam score) over all beams, the float32
   * sums PyTorch makes. Most tokens are dismissed by one comparison of the raw logit with `limit`,
   * a bound that a token must pass to beat the threshold whatever the rounding: log-probabilities
   * and beam scores are never positive, so rounding moves a score by less than
   * roundingMargin * (|score| + |beam score|).
   */
  #collectCandidates(logits: Float32Array, rows: number, vocabularySize: number): void {
    const candidates = this.#candidates;
    candidates.clear();
    for (let beam = 0; beam < this.#numBeams; beam += 1) {
      const beamScore = this.#beamScores[beam] ?? 0;
      const row = rows === 1 ? 0 : beam;
      const shift = this.#shifts[row] ?? 0;
      const offset = row * vocabularySize;
      const constant = (beamScore - shift) * (1 - roundingMargin) - roundingMargin * beamScore;
      let threshold = candidates.threshold;
      let limit = (threshold - constant) / (1 - roundingMargin);
      for (let token = 0; token < vocabularySize; token += 1) {
        const logit = logits[offset + token] ?? 0;
        if (!(logit > limit)) continue;
        const score = Math.fround(Math.fround(logit - shift) + beamScore);
        if (score > threshold) {
          candidates.offer(score, beam * vocabularySize + token);
          threshold = candidates.threshold;
          limit = (threshold - constant) / (1 - roundingMargin);
        }
      }
    }
  }

  /** BeamSearchScorer.process, is_done, the new beams, and finalize when the length runs out. */
  #advance(rows: number, vocabularySize: number): void {
    const { eosTokenId, maxNewTokens } = this.#options;
    const candidates = this.#candidates;
    const nextBeams: (readonly number[])[] = [];
    const { tokenIds, sourceRows } = this.#inputs;
    for (let rank = 0; rank < candidates.count && nextBeams.length < this.#numBeams; rank += 1) {
      const score = candidates.scores[rank] ?? 0;
      const flatIndex = candidates.indices[rank] ?? 0;
      const beam = Math.floor(flatIndex / vocabularySize);
      const token = flatIndex - beam * vocabularySize;
      const history = this.#beams[beam] ?? [];
      if (token === eosTokenId) {
        if (rank < this.#numBeams) this.#hypotheses.add([...history, eosTokenId], 1 + history.length, score);
        continue;
      }
      const slot = nextBeams.length;
      this.#beamScores[slot] = score;
      tokenIds[slot] = token;
      sourceRows[slot] = rows === 1 ? 0 : beam;
      nextBeams.push([...history, token]);
    }
    if (nextBeams.length < this.#numBeams) {
      throw new EmuBotError(
        'INTERNAL',
        `beam search found only ${nextBeams.length} continuations for ${this.#numBeams} beams`,
      );
    }
    this.#done = this.#hypotheses.isDone(candidates.scores[0] ?? 0, 1 + this.#generatedCount);
    this.#beams = nextBeams;
    this.#generatedCount += 1;
    this.#rowsExpected = this.#numBeams;
    if (!this.#done && this.#generatedCount >= maxNewTokens) {
      for (const [index, beam] of this.#beams.entries()) {
        this.#hypotheses.add(beam, 1 + beam.length, this.#beamScores[index] ?? 0);
      }
      this.#done = true;
    }
    if (this.#done) this.#stream();
  }

  #stream(): void {
    const streamer = this.#options.streamer;
    if (streamer === undefined) return;
    const [best] = this.#hypotheses.best(1);
    for (const token of best?.tokenIds ?? []) if (token !== this.#options.eosTokenId) streamer.put(token);
    streamer.end();
  }

  isDone(): boolean {
    return this.#done;
  }

  nextInputs(): StepInputs {
    if (!this.#started || this.#done) {
      throw new EmuBotError(
        'INTERNAL',
        'nextInputs called before the first consume or after the search finished',
      );
    }
    return this.#inputs;
  }

  result(): GenerationResult {
    if (!this.#done) throw new EmuBotError('INTERNAL', 'result called before the search finished');
    const { eosTokenId, numReturnSequences = 1 } = this.#options;
    return {
      sequences: this.#hypotheses.best(numReturnSequences).map((hypothesis) => ({
        tokenIds: hypothesis.tokenIds,
        score: hypothesis.score,
        finishReason: hypothesis.tokenIds.at(-1) === eosTokenId ? 'eos' : 'length',
      })),
    };
  }
}
