import type { Redis } from 'ioredis';
import type { ModelKind } from '../engine/index.js';
import type { QueueKeys } from './keys.js';
import { positionsScript } from './scripts/status.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface PlaceInLine {
  /** 1 is next; 0 when the job is not waiting (running, deferred or gone). */
  readonly position: number;
  /** An estimate from recent run times; `null` before any job of the model has run. */
  readonly estimatedWaitMs: number | null;
}

/**
 * Places in line and estimated waits. The estimate is `position x (recent time per job) / live
 * workers`, where the time per job is a moving average of each job's share of its batch's run
 * time (kept by the publish script): a rough figure, shown to people as an estimate.
 */
export class WaitEstimator {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #registry: WorkerRegistry;

  constructor(redis: Redis, keys: QueueKeys, registry: WorkerRegistry) {
    this.#redis = redis;
    this.#keys = keys;
    this.#registry = registry;
  }

  async places(model: ModelKind, jobIds: readonly string[]): Promise<PlaceInLine[]> {
    if (jobIds.length === 0) return [];
    const keys = [this.#keys.bullKey(model, 'wait'), this.#keys.bullKey(model, 'prioritized')];
    const [positions, perJobMs, workers] = await Promise.all([
      positionsScript.run(this.#redis, keys, jobIds) as Promise<number[]>,
      this.perJobMs(model),
      this.#registry.liveWorkers(model),
    ]);
    return positions.map((position) => ({
      position,
      estimatedWaitMs: this.estimate(position, perJobMs, workers),
    }));
  }

  /** The estimated wait for a job at `position`, or for a new job when it is the queue's depth + 1. */
  estimate(position: number, perJobMs: number | null, workers: number): number | null {
    if (perJobMs === null || workers === 0) return null;
    return Math.round((position * perJobMs) / workers);
  }

  async perJobMs(model: ModelKind): Promise<number | null> {
    const value = await this.#redis.hget(this.#keys.runTimes, model);
    return value === null ? null : Number(value);
  }
}
