interface Hypothesis {
  readonly tokenIds: readonly number[];
  readonly score: number;
}

/**
 * transformers 4.29's BeamHypotheses: the best `numBeams` finished hypotheses of one request,
 * with its exact order of eviction, its `worst_score` bookkeeping (which starts at 1e9) and its
 * ranking of ties.
 */
export class BeamHypotheses {
  readonly #numBeams: number;
  readonly #lengthPenalty: number;
  readonly #earlyStopping: boolean;
  readonly #entries: Hypothesis[] = [];
  #worstScore = 1e9;

  constructor(numBeams: number, lengthPenalty: number, earlyStopping: boolean) {
    this.#numBeams = numBeams;
    this.#lengthPenalty = lengthPenalty;
    this.#earlyStopping = earlyStopping;
  }

  /**
   * `tokenIds` are the hypothesis's new tokens (EOS included when it ended there); its length for
   * the penalty is the BOS column plus the tokens before EOS, `penaltyLength`.
   */
  add(tokenIds: readonly number[], penaltyLength: number, sumLogProbabilities: number): void {
    const score = sumLogProbabilities / penaltyLength ** this.#lengthPenalty;
    if (this.#entries.length >= this.#numBeams && score <= this.#worstScore) return;
    this.#entries.push({ tokenIds, score });
    if (this.#entries.length > this.#numBeams) {
      const ranked = this.#entries
        .map((entry, index) => [entry.score, index] as const)
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const [worst, nextWorst] = ranked;
      if (worst !== undefined) this.#entries.splice(worst[1], 1);
      this.#worstScore = nextWorst?.[0] ?? this.#worstScore;
    } else {
      this.#worstScore = Math.min(score, this.#worstScore);
    }
  }

  /** 4.29's is_done: `currentLength` is the BOS column plus the tokens generated before this step. */
  isDone(bestSumLogProbabilities: number, currentLength: number): boolean {
    if (this.#entries.length < this.#numBeams) return false;
    if (this.#earlyStopping) return true;
    return this.#worstScore >= bestSumLogProbabilities / currentLength ** this.#lengthPenalty;
  }

  /** The `count` best, best first; among equal scores the later-added comes first, as 4.29's pop() does. */
  best(count: number): Hypothesis[] {
    const ascending = [...this.#entries].sort((a, b) => a.score - b.score);
    return ascending.slice(-count).reverse();
  }
}
