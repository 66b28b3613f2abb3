import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { EmuBotError } from '../core/index.js';
import type { ModelKind } from '../engine/index.js';
import type { JobClient } from './client.js';
import { modelKinds } from './client.js';
import type { JobData } from './job-types.js';

/** How many waiting jobs one sweep looks at per model. */
const sweepSize = 500;

/**
 * Answers waiting jobs that would otherwise wait forever: those for a model no live worker
 * has held for `queue.noWorkerGraceMs` (NO_WORKER_FOR_MODEL) and those waiting past `queue.waitTimeoutMs` (JOB_TIMEOUT).
 * Runs in every bot process; two sweeping the same job is harmless (BullMQ removes it once,
 * and the outcome is published once).
 */
export class Janitor {
  readonly #client: JobClient;
  readonly #config: Config;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> = Promise.resolve();
  /** When each model last had a live worker, as this process saw it (its start, at first). */
  readonly #lastLive = new Map<ModelKind, number>(modelKinds.map((model) => [model, Date.now()]));

  constructor(client: JobClient, config: Config, logger: Logger) {
    this.#client = client;
    this.#config = config;
    this.#logger = logger;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.#sweeping = this.sweep().catch((error: unknown) =>
        this.#logger.warn({ err: error }, 'sweep failed'),
      );
    }, this.#config.queue.statusIntervalMs);
    this.#timer.unref();
  }

  async sweep(): Promise<void> {
    const now = Date.now();
    for (const model of modelKinds) {
      if ((await this.#client.registry.liveWorkers(model)) > 0) this.#lastLive.set(model, now);
      const abandoned = now - (this.#lastLive.get(model) ?? now) > this.#config.queue.noWorkerGraceMs;
      const queue = this.#client.queue(model);
      const jobs = (await queue.getJobs(
        ['prioritized', 'wait', 'delayed'],
        0,
        sweepSize - 1,
      )) as Job<JobData>[];
      for (const job of jobs) {
        if (job === undefined || job.id === undefined) continue;
        const error = abandoned
          ? new EmuBotError('NO_WORKER_FOR_MODEL', `no live worker has held the ${model} model for a while`)
          : now - job.data.enqueuedAt > this.#config.queue.waitTimeoutMs
            ? new EmuBotError('JOB_TIMEOUT', `job ${job.id} waited longer than queue.waitTimeoutMs`, {
                userMessage:
                  'Your request waited too long in the queue, so I gave up. Please try again later.',
              })
            : undefined;
        if (error !== undefined && (await this.#client.failWaiting(job, error))) {
          this.#logger.info({ jobId: job.id, code: error.code }, 'answered a waiting job');
        }
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }
}
