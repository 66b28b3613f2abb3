import type { Redis } from 'ioredis';

/**
 * The waiting messages the bot posted for jobs after queueing them (a mention answered in a new
 * thread is acknowledged by the thread alone), kept in Redis so that whichever bot process
 * delivers the answer, after a restart too, edits that message instead of posting another.
 */
export class WaitingMessages {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  /** `hashTag` keeps these keys in the queue's Redis Cluster slot. */
  constructor(redis: Redis, hashTag: string, ttlMs: number) {
    this.#redis = redis;
    this.#prefix = `${hashTag}:discord:waiting`;
    this.#ttlMs = ttlMs;
  }

  async save(jobId: string, messageId: string): Promise<void> {
    await this.#redis.set(`${this.#prefix}:${jobId}`, messageId, 'PX', this.#ttlMs);
  }

  async get(jobId: string): Promise<string | undefined> {
    return (await this.#redis.get(`${this.#prefix}:${jobId}`)) ?? undefined;
  }
}
