/**
 * The logits processors Emu's generate enables, in transformers 4.29's order: repetition penalty,
 * then min length. Both work in place on one row and touch only the tokens concerned.
 *
 * Arithmetic is float32 as in PyTorch: the penalty is rounded to float32 once, and a product or
 * quotient of two float32 values computed in float64 and stored into a Float32Array rounds exactly
 * as float32 arithmetic does.
 */
export class RepetitionPenalty {
  readonly #penalty: number;
  #seenMarks = new Uint32Array(0);
  #mark = 0;

  constructor(penalty: number) {
    this.#penalty = Math.fround(penalty);
  }

  get active(): boolean {
    return this.#penalty !== 1;
  }

  /**
   * Penalises every token in `bosTokenId` + `generated` once (4.29 sees the BOS column and the
   * generated tokens, never the prompt): a negative score is multiplied by the penalty, a positive
   * one divided.
   */
  apply(row: Float32Array, bosTokenId: number, generated: readonly number[]): void {
    if (!this.active) return;
    if (this.#seenMarks.length < row.length) this.#seenMarks = new Uint32Array(row.length);
    this.#mark += 1;
    this.#penalise(row, bosTokenId);
    for (const token of generated) this.#penalise(row, token);
  }

  #penalise(row: Float32Array, token: number): void {
    if (this.#seenMarks[token] === this.#mark) return;
    this.#seenMarks[token] = this.#mark;
    const score = row[token] ?? 0;
    row[token] = score < 0 ? score * this.#penalty : score / this.#penalty;
  }
}

/**
 * MinLengthLogitsProcessor with 4.29's count: the length is the BOS column plus the generated
 * tokens, so EOS is blocked while `1 + generated < minLength` (min length 1 never blocks).
 */
export function applyMinLength(
  row: Float32Array,
  generatedCount: number,
  minLength: number,
  eosTokenId: number,
): void {
  if (1 + generatedCount < minLength) row[eosTokenId] = Number.NEGATIVE_INFINITY;
}

/**
 * log(sum(exp(row))), the shift that turns logits into log-probabilities (`x - shift`, as PyTorch's
 * log_softmax computes them: x - (max + log(sum))). The sum is taken in float64; PyTorch's
 * float32 kernel can differ in the last bit of a log-probability, which only matters for
 * candidates closer than about 1e-7 (the golden tests' toy model keeps its gaps wider).
 */
export function logSumExp(row: Float32Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < row.length; index += 1) {
    const value = row[index] ?? 0;
    if (value > max) max = value;
  }
  let sum = 0;
  for (let index = 0; index < row.length; index += 1) sum += Math.exp((row[index] ?? 0) - max);
  return max + Math.log(sum);
}

/** Log-probabilities in place, rounded to float32 as PyTorch stores them. */
export function subtractInPlace(row: Float32Array, shift: number): void {
  for (let index = 0; index < row.length; index += 1) row[index] = (row[index] ?? 0) - shift;
}

/** torch.argmax: the first index of the largest value. */
export function argmax(row: Float32Array): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < row.length; index += 1) {
    const value = row[index] ?? 0;
    if (value > bestValue) {
      bestValue = value;
      best = index;
    }
  }
  return best;
}
