import { createHash } from 'node:crypto';
import type { RegressionPrompt } from './regression.js';

/**
 * The visual embeddings regressed for recent prompts, so that drawings of the same prompt (the
 * images of one `/imagine` with a count, a "regenerate" with a new seed) run the 32-step
 * regression once and differ only in their noise. Least recently used entries leave first once
 * `maxBytes` is reached.
 */
export class RegressionCache {
  readonly #maxBytes: number;
  /** Insertion order is use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Float32Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Equal for prompts that regress to equal embeddings: same tokens, pixels and guidance. */
  static key(prompt: RegressionPrompt): string {
    const hash = createHash('sha256');
    hash.update(prompt.guided ? 'guided' : 'unguided');
    hash.update(Int32Array.from(prompt.ids));
    for (const pixels of prompt.pixelValues) {
      hash.update(Int32Array.of(pixels.length));
      hash.update(pixels);
    }
    return hash.digest('base64url');
  }

  get(key: string): Float32Array | undefined {
    const embeddings = this.#entries.get(key);
    if (embeddings !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, embeddings);
    }
    return embeddings;
  }

  set(key: string, embeddings: Float32Array): void {
    if (embeddings.byteLength > this.#maxBytes) return;
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.byteLength;
    }
    this.#entries.set(key, embeddings);
    this.#bytes += embeddings.byteLength;
    for (const [oldest, evicted] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= evicted.byteLength;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
