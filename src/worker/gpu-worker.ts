import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { EmuBotError } from '../core/index.js';
import type { Engine, ModelKind } from '../engine/index.js';
import {
  createRedisConnection,
  type JobData,
  QueueKeys,
  type QueueMetrics,
  ResultPublisher,
  readOrigin,
  WorkerRegistry,
} from '../queue/index.js';
import { Batcher } from './batcher.js';
import { configuredModels } from './engine-factory.js';
import { createProcessor, handBack, type JobReturn } from './job-processor.js';

export interface GpuWorkerOptions {
  readonly config: Config;
  /** Loaded once by the caller; the worker owns it from here and closes it. */
  readonly engine: Engine;
  readonly logger: Logger;
  readonly metrics?: QueueMetrics;
}

/**
 * One worker process's share of the queue: takes jobs for the models its engine holds (one
 * BullMQ worker per model queue), runs them in batches, announces itself with heartbeats, stops
 * running jobs on cancellation, and on close finishes its jobs within `worker.drainMs` and hands
 * the rest back. BullMQ's lock renewal and stalled-job check make a crashed worker's jobs run
 * again elsewhere.
 */
export class GpuWorker {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly models: readonly ModelKind[];
  readonly #options: GpuWorkerOptions;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: QueueKeys;
  readonly #registry: WorkerRegistry;
  readonly #inflight = new Map<string, AbortController>();
  readonly #workers: Worker<JobData, JobReturn>[] = [];
  readonly #connections: Redis[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: GpuWorkerOptions) {
    const { config, engine } = options;
    this.#options = options;
    const wanted = configuredModels(config);
    this.models = engine.models.filter((model) => wanted.includes(model));
    if (this.models.length === 0) {
      throw new EmuBotError(
        'CONFIG_INVALID',
        `worker.models is "${config.worker.models}" but the engine holds ${engine.models.join(', ') || 'no model'}`,
      );
    }
    this.#redis = this.#connection(false);
    this.#subscriber = this.#connection(false);
    this.#keys = new QueueKeys(config.redis.keyPrefix);
    this.#registry = new WorkerRegistry(this.#redis, this.#keys);
  }

  static async start(options: GpuWorkerOptions): Promise<GpuWorker> {
    const worker = new GpuWorker(options);
    try {
      await worker.#start();
    } catch (error) {
      await worker.close();
      throw error;
    }
    return worker;
  }

  #connection(blocking: boolean): Redis {
    const connection = createRedisConnection(this.#options.config.redis, { blocking });
    connection.on('error', () => {});
    this.#connections.push(connection);
    return connection;
  }

  async #start(): Promise<void> {
    const { config, engine, logger, metrics } = this.#options;
    await this.#subscriber.subscribe(this.#keys.cancelChannel);
    this.#subscriber.on('message', (_channel: string, jobId: string) => {
      this.#inflight.get(jobId)?.abort(new EmuBotError('ABORTED', `job ${jobId} was cancelled`));
    });
    const batcher = new Batcher(engine, {
      batchSize: config.worker.batchSize,
      windowMs: config.worker.batchWindowMs,
    });
    const publisher = new ResultPublisher(this.#redis, this.#keys, config.queue);
    const processor = createProcessor({
      redis: this.#redis,
      keys: this.#keys,
      config,
      batcher,
      publisher,
      logger,
      metrics,
      inflight: this.#inflight,
    });
    for (const model of this.models) {
      const worker = new Worker<JobData, JobReturn>(this.#keys.queueName(model), processor, {
        connection: this.#connection(true),
        prefix: this.#keys.bullPrefix,
        name: this.id,
        concurrency: config.worker.batchSize,
        lockDuration: config.worker.lockDurationMs,
        stalledInterval: config.worker.stalledIntervalMs,
        maxStalledCount: config.worker.maxStalledCount,
      });
      worker.on('error', (error) => logger.warn({ err: error, model }, 'worker error'));
      worker.on('failed', (job, error) => void this.#answerAbandoned(publisher, job, error));
      this.#workers.push(worker);
    }
    await Promise.all(this.#workers.map((worker) => worker.waitUntilReady()));
    await this.#announce();
    this.#heartbeat = setInterval(() => void this.#announce(), config.worker.heartbeatMs);
    this.#heartbeat.unref();
    logger.info({ workerId: this.id, models: this.models }, 'worker ready');
  }

  async #announce(): Promise<void> {
    try {
      await this.#registry.announce(this.id, this.models, this.#options.config.worker.heartbeatMs);
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'heartbeat failed');
    }
  }

  /**
   * Answers jobs that BullMQ failed without our processor, such as one that stalled more than
   * `worker.maxStalledCount` times (it crashed its workers). Publishing is once per job, so a
   * failure the processor already answered is not answered twice.
   */
  async #answerAbandoned(
    publisher: ResultPublisher,
    job: Job<JobData> | undefined,
    error: Error,
  ): Promise<void> {
    if (job?.id === undefined) return;
    const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    const origin = readOrigin(job.data, this.#options.config.queue.payload);
    if (!final || origin === undefined) return;
    const failure = new EmuBotError('INTERNAL', `job ${job.id} failed: ${error.message}`, { cause: error });
    const data = {
      origin,
      kind: job.data.kind,
      images: Array.isArray(job.data.images) ? job.data.images : [],
    };
    await publisher.publishFailure(job.id, data, failure).catch(() => {});
  }

  /** Ready while it holds its models, takes jobs and Redis answers. */
  async readiness(): Promise<{ ready: boolean; worker: string; models: readonly ModelKind[] }> {
    const running = this.#closing === undefined && this.#workers.every((worker) => worker.isRunning());
    const redis =
      running &&
      (await this.#redis.ping().then(
        () => true,
        () => false,
      ));
    return { ready: running && redis, worker: this.id, models: this.models };
  }

  /** Stops taking jobs, finishes those in hand within `worker.drainMs`, hands back the rest. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#registry.withdraw(this.id, this.models).catch(() => {});
    const drain = setTimeout(() => {
      for (const controller of this.#inflight.values()) controller.abort(handBack);
    }, this.#options.config.worker.drainMs);
    await Promise.allSettled(this.#workers.map((worker) => worker.close()));
    clearTimeout(drain);
    await this.#options.engine.close();
    for (const connection of this.#connections) connection.disconnect();
  }
}
