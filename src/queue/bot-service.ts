import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type CancelResult, JobClient } from './client.js';
import { createRedisConnection } from './connection.js';
import { Janitor } from './janitor.js';
import { JobTracker } from './job-tracker.js';
import type { EnqueuedJob, JobRequest } from './job-types.js';
import type { QueueMetrics } from './metrics.js';
import { backendReadiness, type Readiness } from './readiness.js';
import type { ReplySink } from './reply-sink.js';
import { ResultConsumer } from './result-consumer.js';

export interface BotServiceOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** One per bot adapter running in this process. */
  readonly sinks: readonly ReplySink[];
  readonly metrics?: QueueMetrics;
  /** Tuning for tests; see ResultConsumerOptions. */
  readonly delivery?: { readonly leaseMs?: number; readonly claimIdleMs?: number };
}

/**
 * The queue as a bot process uses it: enqueue (and track) jobs, cancel them, receive their
 * outcomes once, and sweep jobs no worker will take. Adapters reach it through `enqueue` and
 * `cancel`, and hear back through their `ReplySink`.
 */
export class BotService {
  readonly client: JobClient;
  readonly #config: Config;
  readonly #tracker: JobTracker;
  readonly #consumer: ResultConsumer;
  readonly #janitor: Janitor;
  #closing: Promise<void> | undefined;

  private constructor(options: BotServiceOptions) {
    const { config, logger, sinks } = options;
    this.#config = config;
    this.client = new JobClient(config, options.metrics);
    options.metrics?.watchQueues(this.client.queues.values());
    this.#tracker = new JobTracker(this.client, config, sinks, logger);
    this.#consumer = new ResultConsumer({
      redis: createRedisConnection(config.redis, { blocking: true }),
      keys: this.client.keys,
      sinks,
      logger,
      consumerName: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      resultTtlMs: config.queue.resultTtlMs,
      ...(options.delivery?.leaseMs === undefined ? {} : { deliveryLeaseMs: options.delivery.leaseMs }),
      ...(options.delivery?.claimIdleMs === undefined ? {} : { claimIdleMs: options.delivery.claimIdleMs }),
      onDelivered: (jobId) => this.#tracker.forget(jobId),
    });
    this.#janitor = new Janitor(this.client, config, logger);
  }

  static async start(options: BotServiceOptions): Promise<BotService> {
    const service = new BotService(options);
    try {
      await service.#tracker.start();
      await service.#consumer.start();
      service.#janitor.start();
    } catch (error) {
      await service.close();
      throw error;
    }
    return service;
  }

  async enqueue(request: JobRequest): Promise<EnqueuedJob> {
    const job = await this.client.enqueue(request);
    this.#tracker.track(job, request.origin.platform);
    return job;
  }

  cancel(jobId: string): Promise<CancelResult> {
    return this.client.cancel(jobId);
  }

  readiness(): Promise<Readiness> {
    return backendReadiness(this.client, this.#config.queue.overloadWaitMs);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#janitor.close();
      await Promise.allSettled([this.#consumer.close(), this.#tracker.close()]);
      await this.client.close();
    })();
    return this.#closing;
  }
}
