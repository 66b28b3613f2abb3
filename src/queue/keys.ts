import type { ModelKind } from '../engine/index.js';

/**
 * Every Redis key the queue uses. All share one hash tag, `{prefix}`, so that the whole queue
 * (BullMQ's keys and ours) lives in one Redis Cluster slot and every Lua script may touch any
 * of them. BullMQ's keys are `{prefix}:<model>:*`; ours are `{prefix}:emu:*`.
 */
export class QueueKeys {
  /** BullMQ's `prefix` option: the hash tag alone. */
  readonly bullPrefix: string;
  readonly #base: string;

  constructor(keyPrefix: string) {
    this.bullPrefix = `{${keyPrefix}}`;
    this.#base = `${this.bullPrefix}:emu`;
  }

  /** The BullMQ queue of jobs for one model; workers holding it take from it. */
  queueName(model: ModelKind): string {
    return model;
  }

  /** A BullMQ key of a model's queue, for read-only use in scripts (`wait`, `prioritized`). */
  bullKey(model: ModelKind, type: string): string {
    return `${this.bullPrefix}:${model}:${type}`;
  }

  /** ZSET of job ids a user or server has waiting, scored by when the entry expires. */
  waiting(scope: Scope, id: string): string {
    return `${this.#base}:${scope}:${id}:waiting`;
  }

  /** ZSET of job ids a user or server has running, scored by when the run's lease expires. */
  running(scope: Scope, id: string): string {
    return `${this.#base}:${scope}:${id}:running`;
  }

  /** The fairness rank a user's latest waiting job received (see docs/queue.md). */
  lastRank(userId: string): string {
    return `${this.#base}:user:${userId}:rank`;
  }

  /** A preprocessed image of a job, stored with a TTL and referenced from the job. */
  image(jobId: string, index: number): string {
    return `${this.#base}:job:${jobId}:image:${index}`;
  }

  /** Set, atomically with the result's entry in the results stream, when a job's outcome is published. */
  published(jobId: string): string {
    return `${this.#base}:job:${jobId}:published`;
  }

  /** The idempotency record of a reply: a bot's lease while it posts, then `done`. */
  delivered(jobId: string): string {
    return `${this.#base}:job:${jobId}:delivered`;
  }

  /** Set when a job is cancelled, so a worker about to start it sees the cancellation. */
  cancelled(jobId: string): string {
    return `${this.#base}:job:${jobId}:cancelled`;
  }

  /** Pub/sub channel on which cancellations reach the worker running the job. */
  get cancelChannel(): string {
    return `${this.#base}:cancel`;
  }

  /** Stream of outcomes for one platform's jobs, read by its bot processes in one consumer group. */
  results(platform: string): string {
    return `${this.#base}:results:${platform}`;
  }

  /** ZSET of live workers holding a model, scored by when their heartbeat expires. */
  workers(model: ModelKind): string {
    return `${this.#base}:workers:${model}`;
  }

  /** HASH of recent run times per model and kind, for estimated waits. */
  get runTimes(): string {
    return `${this.#base}:run-times`;
  }
}

export type Scope = 'user' | 'server';

/** The consumer group of bot processes on the results stream. */
export const resultConsumerGroup = 'bots';
