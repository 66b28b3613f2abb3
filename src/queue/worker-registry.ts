import type { Redis } from 'ioredis';
import type { ModelKind } from '../engine/index.js';
import type { QueueKeys } from './keys.js';

/**
 * Which workers are alive and what they hold: each worker adds itself, per model, to a sorted
 * set scored by when its heartbeat expires (three heartbeats ahead). Enqueue refuses a job no
 * live worker can run; readiness and estimated waits count the live workers.
 */
export class WorkerRegistry {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;

  constructor(redis: Redis, keys: QueueKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  /** One heartbeat; each ZADD is atomic on its own, and a MULTI sends them together. */
  async announce(workerId: string, models: readonly ModelKind[], heartbeatMs: number): Promise<void> {
    const expiresAt = Date.now() + 3 * heartbeatMs;
    const multi = this.#redis.multi();
    for (const model of models) multi.zadd(this.#keys.workers(model), expiresAt, workerId);
    await multi.exec();
  }

  async withdraw(workerId: string, models: readonly ModelKind[]): Promise<void> {
    const multi = this.#redis.multi();
    for (const model of models) multi.zrem(this.#keys.workers(model), workerId);
    await multi.exec();
  }

  /** Live workers holding `model` (read-only: expired entries are pruned at enqueue). */
  async liveWorkers(model: ModelKind): Promise<number> {
    return this.#redis.zcount(this.#keys.workers(model), Date.now(), '+inf');
  }
}
