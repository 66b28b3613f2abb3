import { type EmuBotError, toEmuBotError } from '../../core/index.js';
import type { LoadedBundle } from '../bundle/index.js';
import type { ImageResult } from '../requests.js';
import type { EmuTokenizer } from '../tokenizer/index.js';
import { batchKey, type DrawingJob, drawImages } from './draw.js';
import { RegressionCache } from './regression-cache.js';

/** 64 MiB: about 50 of the full Emu's guided regressions (2 x 32 x 5120 float32 each). */
const REGRESSION_CACHE_BYTES = 64 * 1024 * 1024;

interface WaitingDrawing extends DrawingJob {
  resolve(result: ImageResult): void;
  reject(error: EmuBotError): void;
}

/**
 * Batches drawings: the requests waiting when a run starts are grouped by latent size and
 * steps, and each group shares its decoder and UNet calls. Requests arriving meanwhile form the
 * next run. Recent prompts' regressed embeddings are kept, so drawing the same prompt again with
 * another seed (several images of one request, "regenerate") skips the regression.
 */
export class ImageBatcher {
  readonly #bundle: LoadedBundle;
  readonly #tokenizer: EmuTokenizer;
  readonly #regressions = new RegressionCache(REGRESSION_CACHE_BYTES);
  #waiting: WaitingDrawing[] = [];
  #loop: Promise<void> | undefined;

  constructor(bundle: LoadedBundle, tokenizer: EmuTokenizer) {
    this.#bundle = bundle;
    this.#tokenizer = tokenizer;
  }

  submit(job: WaitingDrawing): void {
    this.#waiting.push(job);
    if (this.#loop === undefined) this.#loop = this.#run();
  }

  async idle(): Promise<void> {
    await this.#loop;
  }

  /** Like the text batcher, the loop clears itself right after its last check for work. */
  async #run(): Promise<void> {
    while (this.#waiting.length > 0) {
      const taken = this.#waiting;
      this.#waiting = [];
      const groups = new Map<string, WaitingDrawing[]>();
      for (const job of taken)
        groups.set(batchKey(job.request), [...(groups.get(batchKey(job.request)) ?? []), job]);
      for (const group of groups.values()) {
        try {
          const outcomes = await drawImages(this.#bundle, this.#tokenizer, group, this.#regressions);
          group.forEach((job, index) => {
            const outcome = outcomes[index];
            if (outcome === undefined || 'code' in outcome) job.reject(toEmuBotError(outcome));
            else job.resolve(outcome);
          });
        } catch (error) {
          for (const job of group) job.reject(toEmuBotError(error));
        }
      }
    }
    this.#loop = undefined;
  }
}
