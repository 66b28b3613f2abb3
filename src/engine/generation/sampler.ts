import { Xoshiro128StarStar } from './random.js';

export interface SamplingParameters {
  /** Greater than 0; 1 leaves the distribution as it is. */
  readonly temperature: number;
  /** Keep only the k most likely tokens (and any tied with the k-th); 0 keeps all. */
  readonly topK: number;
  /** Keep the most likely tokens whose probabilities reach top-p; 1 keeps all. */
  readonly topP: number;
}

/**
 * Multinomial sampling with transformers 4.29's warpers in its order (temperature, top-k, top-p),
 * drawn from a seeded xoshiro128**. Buffers are kept between calls, and a vocabulary-wide sort
 * never happens: top-k finds its threshold with a k-sized heap, and top-p sorts only the tokens
 * that could survive it (a token with probability at most (1 - p) / n among n candidates is always
 * cut, as it and everything ranked below it add up to at most 1 - p).
 */
export class Sampler {
  readonly #parameters: SamplingParameters;
  readonly #random: Xoshiro128StarStar;
  #weights = new Float64Array(0);
  #candidates = new Int32Array(0);
  #heap = new Float32Array(0);

  constructor(parameters: SamplingParameters, seed: number) {
    this.#parameters = parameters;
    this.#random = Xoshiro128StarStar.fromSeed(seed);
  }

  /** Draws a token from processed logits (one row). */
  sample(row: Float32Array): number {
    this.#ensureCapacity(row.length);
    const { temperature, topK, topP } = this.#parameters;
    const floor = topK > 0 && topK < row.length ? this.#kthLargest(row, topK) : Number.NEGATIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of row) if (value >= floor && value > max) max = value;
    const weights = this.#weights;
    const candidates = this.#candidates;
    let count = 0;
    let total = 0;
    for (let token = 0; token < row.length; token += 1) {
      const value = row[token] ?? 0;
      if (value < floor) continue;
      const weight = Math.exp((value - max) / temperature);
      if (weight === 0) continue;
      weights[token] = weight;
      candidates[count] = token;
      count += 1;
      total += weight;
    }
    if (topP < 1) {
      count = this.#keepNucleus(count, total, topP);
      total = 0;
      for (let index = 0; index < count; index += 1) total += weights[candidates[index] ?? 0] ?? 0;
    }
    let remaining = this.#random.nextFloat() * total;
    for (let index = 0; index < count; index += 1) {
      const token = candidates[index] ?? 0;
      remaining -= weights[token] ?? 0;
      if (remaining < 0) return token;
    }
    return candidates[count - 1] ?? 0; // rounding left a sliver of mass past the last candidate
  }

  #ensureCapacity(vocabularySize: number): void {
    if (this.#weights.length >= vocabularySize) return;
    this.#weights = new Float64Array(vocabularySize);
    this.#candidates = new Int32Array(vocabularySize);
  }

  /** The k-th largest value, by a min-heap of the k largest so far. */
  #kthLargest(row: Float32Array, k: number): number {
    if (this.#heap.length !== k) this.#heap = new Float32Array(k);
    const heap = this.#heap;
    for (let index = 0; index < k; index += 1) heap[index] = row[index] ?? 0;
    for (let index = (k >> 1) - 1; index >= 0; index -= 1) siftDown(heap, index);
    for (let index = k; index < row.length; index += 1) {
      const value = row[index] ?? 0;
      if (value > (heap[0] ?? 0)) {
        heap[0] = value;
        siftDown(heap, 0);
      }
    }
    return heap[0] ?? 0;
  }

  /**
   * Orders the candidates most likely first and keeps those whose more likely rivals hold less
   * than `topP` of the mass (4.29 cuts a token when it and all less likely ones hold at most
   * 1 - top-p), always at least one. Returns the new count.
   */
  #keepNucleus(count: number, total: number, topP: number): number {
    const weights = this.#weights;
    const cut = ((1 - topP) * total) / count;
    let kept = 0;
    for (let index = 0; index < count; index += 1) {
      const token = this.#candidates[index] ?? 0;
      if ((weights[token] ?? 0) > cut) {
        this.#candidates[kept] = token;
        kept += 1;
      }
    }
    const ordered = this.#candidates
      .subarray(0, kept)
      .sort((a, b) => (weights[b] ?? 0) - (weights[a] ?? 0) || a - b);
    let above = 0;
    let nucleus = 0;
    while (nucleus < kept && (nucleus === 0 || above < topP * total)) {
      above += weights[ordered[nucleus] ?? 0] ?? 0;
      nucleus += 1;
    }
    return nucleus;
  }
}

function siftDown(heap: Float32Array, start: number): void {
  let parent = start;
  for (;;) {
    const left = 2 * parent + 1;
    if (left >= heap.length) return;
    const right = left + 1;
    const smaller = right < heap.length && (heap[right] ?? 0) < (heap[left] ?? 0) ? right : left;
    if ((heap[parent] ?? 0) <= (heap[smaller] ?? 0)) return;
    const swap = heap[parent] ?? 0;
    heap[parent] = heap[smaller] ?? 0;
    heap[smaller] = swap;
    parent = smaller;
  }
}
