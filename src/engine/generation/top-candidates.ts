/**
 * The `capacity` largest scores seen, best first, kept by insertion into a short sorted list: a
 * partial top-k over a long scan that allocates nothing and, once the list is full, costs one
 * comparison per score that does not make it. Equal scores keep the order they were offered in,
 * so a scan in index order ranks the lower index first (torch.topk leaves tie order unspecified).
 */
export class TopCandidates {
  readonly scores: Float64Array;
  readonly indices: Int32Array;
  #count = 0;

  constructor(capacity: number) {
    this.scores = new Float64Array(capacity);
    this.indices = new Int32Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** The score to beat to get in: -Infinity until the list is full. */
  get threshold(): number {
    return this.#count < this.scores.length ? Number.NEGATIVE_INFINITY : (this.scores[this.#count - 1] ?? 0);
  }

  clear(): void {
    this.#count = 0;
  }

  /** Call only with a score above `threshold`. */
  offer(score: number, index: number): void {
    let position = Math.min(this.#count, this.scores.length - 1);
    while (position > 0 && (this.scores[position - 1] ?? 0) < score) {
      this.scores[position] = this.scores[position - 1] ?? 0;
      this.indices[position] = this.indices[position - 1] ?? 0;
      position -= 1;
    }
    this.scores[position] = score;
    this.indices[position] = index;
    if (this.#count < this.scores.length) this.#count += 1;
  }
}
