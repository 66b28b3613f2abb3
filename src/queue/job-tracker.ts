import { QueueEvents } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { ModelKind } from '../engine/index.js';
import type { JobClient } from './client.js';
import { modelKinds } from './client.js';
import { createRedisConnection } from './connection.js';
import { jobTtlMs } from './job-keys.js';
import type { EnqueuedJob, JobProgress, JobUpdate } from './job-types.js';
import type { ReplySink } from './reply-sink.js';

interface Tracked {
  readonly model: ModelKind;
  readonly sink: ReplySink;
  readonly until: number;
  position: number;
}

/**
 * Keeps the people waiting informed, from the bot process that enqueued their jobs: their place
 * in line and the estimated wait every `queue.statusIntervalMs` while it changes, and the
 * worker's progress (BullMQ progress events) while the job runs. Updates are best effort; the
 * final answer travels separately and durably (ResultConsumer).
 */
export class JobTracker {
  readonly #client: JobClient;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #sinks: ReadonlyMap<string, ReplySink>;
  readonly #tracked = new Map<string, Tracked>();
  readonly #events: QueueEvents[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(client: JobClient, config: Config, sinks: readonly ReplySink[], logger: Logger) {
    this.#client = client;
    this.#config = config;
    this.#logger = logger;
    this.#sinks = new Map(sinks.map((sink) => [sink.platform, sink]));
  }

  async start(): Promise<void> {
    for (const model of modelKinds) {
      const connection = createRedisConnection(this.#config.redis, { blocking: true });
      const events = new QueueEvents(this.#client.keys.queueName(model), {
        connection,
        prefix: this.#client.keys.bullPrefix,
      });
      events.on('error', (error) => this.#logger.warn({ err: error }, 'queue events'));
      events.on('progress', ({ jobId, data }) =>
        this.#send({ jobId, state: 'running', progress: data as JobProgress }),
      );
      events.on('delayed', ({ jobId }) =>
        this.#send({ jobId, state: 'deferred', reason: 'waiting for an earlier request to finish' }),
      );
      events.on('completed', ({ jobId }) => this.forget(jobId));
      events.on('failed', ({ jobId }) => this.forget(jobId));
      this.#events.push(events);
      await events.waitUntilReady();
    }
    this.#timer = setInterval(() => void this.#refresh(), this.#config.queue.statusIntervalMs);
    this.#timer.unref();
  }

  /** Starts sending updates for a job this process just enqueued for a person on `platform`. */
  track(job: EnqueuedJob, platform: string): void {
    const sink = this.#sinks.get(platform);
    if (sink === undefined) return;
    const until = Date.now() + jobTtlMs(this.#config.queue);
    this.#tracked.set(job.jobId, { model: job.model, sink, until, position: job.position });
  }

  forget(jobId: string): void {
    this.#tracked.delete(jobId);
  }

  #send(update: JobUpdate): void {
    const tracked = this.#tracked.get(update.jobId);
    if (tracked === undefined) return;
    try {
      tracked.sink.update(update);
    } catch (error) {
      this.#logger.warn({ err: error, jobId: update.jobId }, 'status update failed');
    }
  }

  async #refresh(): Promise<void> {
    const now = Date.now();
    for (const [jobId, tracked] of this.#tracked) if (tracked.until < now) this.#tracked.delete(jobId);
    try {
      for (const model of modelKinds) {
        const ids = [...this.#tracked].filter(([, tracked]) => tracked.model === model).map(([id]) => id);
        const places = await this.#client.estimator.places(model, ids);
        places.forEach((place, index) => {
          const jobId = ids[index] as string;
          const tracked = this.#tracked.get(jobId);
          if (tracked === undefined || place.position === 0 || place.position === tracked.position) return;
          tracked.position = place.position;
          this.#send({ jobId, state: 'queued', ...place });
        });
      }
    } catch (error) {
      this.#logger.warn({ err: error }, 'refreshing places in line failed');
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await Promise.allSettled(this.#events.map((events) => events.close()));
    })();
    return this.#closing;
  }
}
