import { randomUUID } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { EmuBotError } from '../core/index.js';
import type { ModelKind } from '../engine/index.js';
import { createRedisConnection } from './connection.js';
import { imageKeys, type JobScopeKeys, jobScopeKeys, jobTtlMs } from './job-keys.js';
import { validateJobRequest } from './job-schema.js';
import type { EnqueuedJob, JobData, JobRequest, PriorityClass } from './job-types.js';
import { QueueKeys } from './keys.js';
import type { QueueMetrics } from './metrics.js';
import { ResultPublisher } from './result-publisher.js';
import { admitScript, withdrawScript } from './scripts/admission.js';
import { cancelScript } from './scripts/status.js';
import { WaitEstimator } from './wait-estimate.js';
import { WorkerRegistry } from './worker-registry.js';

export const modelKinds: readonly ModelKind[] = ['instruct', 'pretrain'];

/** BullMQ priorities (lower runs first): interactive ranks 1.., bulk ranks after all of them. */
const classBase: Record<PriorityClass, number> = { interactive: 0, bulk: 2 ** 20 };
const maxRank = 2 ** 20 - 1;

export type CancelResult = 'removed' | 'stopping';

/**
 * The bot side of the queue: enqueues jobs (validated, limited, ranked for fairness), cancels
 * them, and tells where they stand. One per process; `close()` is idempotent.
 */
export class JobClient {
  readonly keys: QueueKeys;
  readonly queues: ReadonlyMap<ModelKind, Queue>;
  readonly registry: WorkerRegistry;
  readonly estimator: WaitEstimator;
  readonly publisher: ResultPublisher;
  readonly #config: Config;
  readonly #redis: Redis;
  readonly #metrics: QueueMetrics | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: Config, metrics?: QueueMetrics) {
    this.#config = config;
    this.#metrics = metrics;
    this.#redis = createRedisConnection(config.redis);
    this.#redis.on('error', () => {});
    this.keys = new QueueKeys(config.redis.keyPrefix);
    const options = { connection: this.#redis, prefix: this.keys.bullPrefix };
    this.queues = new Map(modelKinds.map((model) => [model, new Queue(this.keys.queueName(model), options)]));
    this.registry = new WorkerRegistry(this.#redis, this.keys);
    this.estimator = new WaitEstimator(this.#redis, this.keys, this.registry);
    this.publisher = new ResultPublisher(this.#redis, this.keys, config.queue);
  }

  get redis(): Redis {
    return this.#redis;
  }

  queue(model: ModelKind): Queue {
    return this.queues.get(model) as Queue;
  }

  /**
   * Validates and enqueues a job. Throws JOB_INVALID for a malformed or oversized request,
   * QUEUE_LIMIT_REACHED when the person or server has too many waiting, and
   * NO_WORKER_FOR_MODEL when no live worker holds the model, each at once.
   */
  async enqueue(input: JobRequest): Promise<EnqueuedJob> {
    try {
      return await this.#enqueue(validateJobRequest(input, this.#config.queue.payload));
    } catch (error) {
      if (error instanceof EmuBotError) this.#metrics?.rejections.inc({ code: error.code });
      throw error;
    }
  }

  async #enqueue(request: JobRequest): Promise<EnqueuedJob> {
    const queue = this.#config.queue;
    const jobId = randomUUID();
    const now = Date.now();
    const model = request.request.model;
    const scope = jobScopeKeys(this.keys, request.origin);
    const images = request.request.images;
    const priority = request.priority ?? 'interactive';
    const keys = [
      this.keys.workers(model),
      scope.userWaiting,
      scope.serverWaiting,
      this.keys.lastRank(request.origin.userId),
      this.keys.bullKey(model, 'wait'),
      this.keys.bullKey(model, 'prioritized'),
      this.keys.runTimes,
      ...imageKeys(this.keys, jobId, images.length),
    ];
    const args = [
      jobId,
      now,
      now + queue.waitTimeoutMs,
      queue.limits.userQueued,
      scope.hasServer ? queue.limits.serverQueued : 0,
      jobTtlMs(queue),
      classBase[priority],
      maxRank,
      model,
      ...images.map((image) => Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength)),
    ];
    const admitted = (await admitScript.run(this.#redis, keys, args)) as [
      string,
      number,
      number?,
      number?,
      string?,
    ];
    const [verdict, value, position = 0, workers = 0, perJobMs] = admitted;
    if (verdict !== 'ok') throw refusal(verdict, value, model, queue.limits);

    const data: JobData = {
      kind: request.kind,
      model,
      origin: request.origin,
      priority,
      prompt: request.request.prompt,
      images: images.map(({ width, height }) => ({ width, height })),
      settings: request.request.settings,
      enqueuedAt: now,
    };
    try {
      await this.queue(model).add(request.kind, data, {
        jobId,
        priority: value,
        attempts: queue.attempts,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: Math.ceil(queue.resultTtlMs / 1000) },
        removeOnFail: { age: Math.ceil(queue.resultTtlMs / 1000) },
      });
    } catch (error) {
      await this.#withdraw(jobId, model, scope, images.length);
      throw error;
    }
    const perJob = perJobMs === undefined || perJobMs === null ? null : Number(perJobMs);
    return { jobId, model, position, estimatedWaitMs: this.estimator.estimate(position, perJob, workers) };
  }

  /**
   * Takes back the admission of a job whose add failed, so that it counts against no limit and
   * its images do not linger: the job is removed from BullMQ in case the add went through and
   * only its reply was lost, then its waiting entries and images go. Best effort: when Redis is
   * unreachable, the entries expire with their scores and the images with their TTL.
   */
  async #withdraw(jobId: string, model: ModelKind, scope: JobScopeKeys, imageCount: number): Promise<void> {
    try {
      await this.queue(model).remove(jobId);
      await withdrawScript.run(
        this.#redis,
        [scope.userWaiting, scope.serverWaiting, ...imageKeys(this.keys, jobId, imageCount)],
        [jobId],
      );
    } catch {
      // Redis is unreachable (or a worker already holds the job): nothing more to undo here.
    }
  }

  /**
   * Cancels a job: a waiting one is removed and answered with ABORTED at once; a running one is
   * signalled, and its worker stops the engine and answers. Throws JOB_NOT_FOUND for a job that
   * does not exist or has finished.
   */
  async cancel(jobId: string): Promise<CancelResult> {
    const job = await this.#find(jobId);
    await cancelScript.run(
      this.#redis,
      [this.keys.cancelled(jobId)],
      [jobId, jobTtlMs(this.#config.queue), this.keys.cancelChannel],
    );
    const removed = await this.failWaiting(
      job,
      new EmuBotError('ABORTED', `job ${jobId} cancelled while queued`),
    );
    return removed ? 'removed' : 'stopping';
  }

  /**
   * Removes a job that has not started and answers it with `error`; false when a worker holds
   * it (BullMQ refuses to remove a locked job), so the caller must reach the worker instead.
   */
  async failWaiting(job: Job<JobData>, error: EmuBotError): Promise<boolean> {
    try {
      await job.remove();
    } catch {
      return false;
    }
    await this.publisher.publishFailure(job.id as string, job.data, error);
    return true;
  }

  async #find(jobId: string): Promise<Job<JobData>> {
    for (const queue of this.queues.values()) {
      const job = (await queue.getJob(jobId)) as Job<JobData> | undefined;
      if (job === undefined) continue;
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') break;
      return job;
    }
    throw new EmuBotError('JOB_NOT_FOUND', `no unfinished job ${jobId}`);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
      this.#redis.disconnect();
    })();
    return this.#closing;
  }
}

function refusal(verdict: string, count: number, model: ModelKind, limits: Config['queue']['limits']) {
  switch (verdict) {
    case 'no-worker':
      return new EmuBotError('NO_WORKER_FOR_MODEL', `no live worker holds the ${model} model`);
    case 'user-limit':
      return new EmuBotError(
        'QUEUE_LIMIT_REACHED',
        `the user has ${count} jobs queued, the limit (queue.limits.userQueued) is ${limits.userQueued}`,
        { userMessage: `You already have ${count} requests waiting; please wait for one to finish.` },
      );
    default:
      return new EmuBotError(
        'QUEUE_LIMIT_REACHED',
        `the server has ${count} jobs queued, the limit (queue.limits.serverQueued) is ${limits.serverQueued}`,
        { userMessage: `This server already has ${count} requests waiting; please try again in a while.` },
      );
  }
}
