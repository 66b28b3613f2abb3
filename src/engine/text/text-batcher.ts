import { EmuBotError, toEmuBotError } from '../../core/index.js';
import type { LoadedBundle } from '../bundle/index.js';
import { DecoderPipeline } from '../decoding/decoder-pipeline.js';
import type { KvCache } from '../decoding/kv-cache.js';
import { createSearch, type GenerationResult, type SearchStrategy } from '../generation/index.js';
import { embedPrompts, encodeImages } from '../prompt/embed-prompt.js';
import { prefillGroups } from './prefill-groups.js';
import type { PreparedText } from './prepare-text.js';

export interface TextJob {
  readonly prepared: PreparedText;
  readonly signal: AbortSignal | undefined;
  resolve(result: GenerationResult): void;
  reject(error: EmuBotError): void;
}

interface RunningJob {
  readonly job: TextJob;
  readonly search: SearchStrategy;
  /** Rows this job holds in the cache, which keeps jobs' rows contiguous in `running` order. */
  rows: number;
}

/**
 * Continuous batching for text: requests of any length join a running batch after their own
 * prefill and leave it when done, so a long answer never holds up a short one. Each step feeds
 * every running row one token through a single decoder call; each request's search strategy
 * reads only its own rows, so it gets exactly what it would alone.
 */
export class TextBatcher {
  readonly #bundle: LoadedBundle;
  readonly #decoder: DecoderPipeline;
  readonly #maxRows: number;
  readonly #waiting: TextJob[] = [];
  #running: RunningJob[] = [];
  #cache: KvCache;
  #loop: Promise<void> | undefined;

  constructor(bundle: LoadedBundle, maxRows: number) {
    this.#bundle = bundle;
    this.#decoder = new DecoderPipeline(bundle);
    this.#maxRows = maxRows;
    this.#cache = this.#decoder.createCache();
  }

  submit(job: TextJob): void {
    if (job.prepared.rows > this.#maxRows) {
      job.reject(
        new EmuBotError(
          'INTERNAL',
          `the request needs ${job.prepared.rows} rows; engine.maxBatchRows is ${this.#maxRows}`,
        ),
      );
      return;
    }
    this.#waiting.push(job);
    if (this.#loop === undefined) this.#loop = this.#run();
  }

  /** Resolves once every submitted job has settled. */
  async idle(): Promise<void> {
    await this.#loop;
  }

  /**
   * Runs until no work is left. The loop marks itself finished right after its last check for
   * work, with no await in between, so a job submitted at any moment is either seen by that
   * check or starts a new loop.
   */
  async #run(): Promise<void> {
    // Requests submitted in the same turn of the event loop start together.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#waiting.length > 0 || this.#running.length > 0) {
      try {
        await this.#admit();
        if (this.#running.length > 0) await this.#step();
      } catch (error) {
        // A failed run leaves the cache in an unknown state: fail what ran, start afresh.
        const failure = toEmuBotError(error);
        for (const running of this.#running) running.job.reject(failure);
        this.#running = [];
        this.#cache = this.#decoder.createCache();
      }
    }
    this.#loop = undefined;
  }

  /**
   * Prefills as many waiting jobs as fit, in batches of similar length (see prefillGroups), and
   * adds them to the running batch.
   */
  async #admit(): Promise<void> {
    let free = this.#maxRows - this.#running.reduce((rows, running) => rows + running.rows, 0);
    const admitted: TextJob[] = [];
    while (this.#waiting.length > 0 && (this.#waiting[0] as TextJob).prepared.rows <= free) {
      const job = this.#waiting.shift() as TextJob;
      if (this.#rejectIfAborted(job)) continue;
      admitted.push(job);
      free -= job.prepared.rows;
    }
    if (admitted.length === 0) return;
    const pending = new Set(admitted);
    try {
      const groups = prefillGroups(admitted, (job) => job.prepared.ids.length);
      const longestPrompt = Math.max(...admitted.map((job) => job.prepared.ids.length));
      // One relayout of the running cache for the whole admission, not one per group; the
      // next step's slot included.
      this.#cache.ensureRoom(
        this.#cache.rows + admitted.length,
        Math.max(this.#cache.longest, longestPrompt) + 1,
      );
      for (const group of groups) {
        await this.#prefill(group);
        for (const job of group) pending.delete(job);
      }
    } catch (error) {
      const failure = toEmuBotError(error);
      for (const job of pending) job.reject(failure);
      throw failure;
    }
  }

  async #prefill(jobs: readonly TextJob[]): Promise<void> {
    const prefill = this.#decoder.createCache();
    prefill.addRows(jobs.length);
    const images = await encodeImages(
      this.#bundle,
      jobs.flatMap((job) => job.prepared.pixelValues),
    );
    const batch = await embedPrompts(
      this.#bundle,
      jobs.map((job) => job.prepared.ids),
      images,
    );
    const { logits } = await this.#decoder.step(prefill, {
      inputsEmbeds: batch.inputsEmbeds,
      positionIds: batch.positionIds,
      incomingValid: batch.valid,
      incoming: batch.length,
      keepLogits: 1,
      keepRegressed: 0,
    });
    const vocabulary = this.#bundle.manifest.model.vocab_size;
    const joining = jobs.map((job, row) => {
      const search = createSearch(job.prepared.search);
      search.consume(logits.subarray(row * vocabulary, (row + 1) * vocabulary));
      return { job, search, rows: 1 };
    });
    this.#cache.append(prefill);
    this.#running.push(...joining);
    this.#settleFinished();
  }

  async #step(): Promise<void> {
    const sources: number[] = [];
    const tokens: number[] = [];
    let start = 0;
    for (const running of this.#running) {
      const { tokenIds, sourceRows } = running.search.nextInputs();
      for (let row = 0; row < tokenIds.length; row++) {
        sources.push(start + (sourceRows === null ? row : (sourceRows[row] as number)));
        tokens.push(tokenIds[row] as number);
      }
      start += running.rows;
      running.rows = tokenIds.length;
    }
    this.#cache.reorder(sources);
    const embedded = await embedPrompts(
      this.#bundle,
      tokens.map((token) => [token]),
      undefined,
    );
    const positions = BigInt64Array.from(tokens, (_, row) => BigInt(this.#cache.tokens(row)));
    const { logits } = await this.#decoder.step(this.#cache, {
      inputsEmbeds: embedded.inputsEmbeds,
      positionIds: positions,
      incomingValid: new Uint8Array(tokens.length).fill(1),
      incoming: 1,
      keepLogits: 1,
      keepRegressed: 0,
    });
    const vocabulary = this.#bundle.manifest.model.vocab_size;
    let row = 0;
    for (const running of this.#running) {
      running.search.consume(logits.subarray(row * vocabulary, (row + running.rows) * vocabulary));
      row += running.rows;
    }
    this.#settleFinished();
  }

  /** Resolves finished and aborted jobs; their rows are dropped by the next step's reorder. */
  #settleFinished(): void {
    const kept: RunningJob[] = [];
    const sources: number[] = [];
    let start = 0;
    for (const running of this.#running) {
      const done = running.search.isDone();
      if (done) running.job.resolve(running.search.result());
      if (!done && !this.#rejectIfAborted(running.job)) {
        kept.push(running);
        for (let row = 0; row < running.rows; row++) sources.push(start + row);
      }
      start += running.rows;
    }
    if (kept.length !== this.#running.length) this.#cache.reorder(sources);
    this.#running = kept;
  }

  #rejectIfAborted(job: TextJob): boolean {
    if (job.signal?.aborted !== true) return false;
    job.reject(
      new EmuBotError('ABORTED', 'generation was cancelled between steps', { cause: job.signal.reason }),
    );
    return true;
  }
}
