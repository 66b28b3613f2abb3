/**
 * The contract between a search strategy (greedy, sampling, beam search) and whoever runs the
 * model (the session layer, which owns the KV cache and may batch several requests' rows).
 *
 * One strategy serves one request. The caller runs the prompt, hands the logits of its last
 * position to `consume` (one row), and then, until `isDone()`, asks `nextInputs()` for the tokens
 * to feed, rearranges the request's cache rows as `sourceRows` says, runs one step and hands
 * the new logits to `consume` again. Finished requests simply leave the batch: unlike Hugging
 * Face's batched generate, nothing needs [PAD] rows, and results are the same.
 */
export interface StepInputs {
  /** The token to feed on each row of the next step (`tokenIds.length` rows). */
  readonly tokenIds: Int32Array;
  /**
   * For each row of the next step, the row of the previous step whose cache it continues (beam
   * search's `beam_idx`, local to this request: 0 is the request's first row). Rows may repeat
   * (copy a cache row) or be left out (drop it); at the first step after the one-row prompt they
   * are all 0. `null` means the rows stay as they are.
   */
  readonly sourceRows: Int32Array | null;
}

export type FinishReason = 'eos' | 'length';

export interface GeneratedSequence {
  /** New tokens, ending with EOS when the sequence finished there. */
  readonly tokenIds: readonly number[];
  /** Beam search's length-penalised score; null for greedy and sampling. */
  readonly score: number | null;
  readonly finishReason: FinishReason;
}

export interface GenerationResult {
  /** Best first; one for greedy and sampling, `numReturnSequences` for beam search. */
  readonly sequences: readonly GeneratedSequence[];
}

export interface SearchStrategy {
  /** How many rows of logits the next `consume` takes: 1 for the prompt, then the step's rows. */
  readonly rowsExpected: number;
  /**
   * Takes logits [rowsExpected, vocabulary] in row order and chooses the next tokens. The logits
   * are processed in place (the buffer is scratch afterwards), so no copy is made.
   */
  consume(logits: Float32Array): void;
  isDone(): boolean;
  /** What to feed next; only while not done. The arrays may be reused by the next call. */
  nextInputs(): StepInputs;
  /** Only once done. */
  result(): GenerationResult;
}
