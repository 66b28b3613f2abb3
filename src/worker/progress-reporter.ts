import type { Job } from 'bullmq';
import type { GenerationProgress } from '../engine/index.js';
import type { JobProgress } from '../queue/index.js';

/**
 * Publishes a running job's progress (tokens and text so far, denoising steps) as BullMQ
 * progress events: the first after `firstMs` (a job done sooner needs none), then at most one
 * per `intervalMs`, so a fast engine does not flood Redis.
 */
export class ProgressReporter {
  readonly #job: Job;
  readonly #intervalMs: number;
  #tokens = 0;
  #text = '';
  #step: GenerationProgress | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sentAt = 0;
  #stopped = false;

  constructor(job: Job, intervalMs: number, firstMs: number) {
    this.#job = job;
    this.#intervalMs = intervalMs;
    this.#sentAt = Date.now() - intervalMs + firstMs;
  }

  readonly onText = (delta: string): void => {
    this.#tokens += 1;
    this.#text += delta;
    this.#schedule();
  };

  readonly onProgress = (progress: GenerationProgress): void => {
    this.#step = progress;
    this.#schedule();
  };

  #schedule(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const wait = Math.max(0, this.#sentAt + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => this.#send(), wait);
  }

  #send(): void {
    this.#timer = undefined;
    this.#sentAt = Date.now();
    const progress: JobProgress = {
      tokens: this.#tokens,
      text: this.#text,
      ...(this.#step === undefined ? {} : { step: this.#step }),
    };
    // Progress is best effort: a lost update is overtaken by the next one or the answer.
    this.#job.updateProgress({ ...progress }).catch(() => {});
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
