import type { Redis } from 'ioredis';
import type { ModelKind } from '../../engine/index.js';
import { modelKinds, type QueueKeys, type WaitEstimator, type WorkerRegistry } from '../../queue/index.js';
import { queuedText } from './status-text.js';

const modelNames: Record<ModelKind, string> = {
  instruct: 'answers (instruct)',
  pretrain: 'drawings (pretrain)',
};

/**
 * /queue: the person's own jobs with their places in line, each model's queue depth and the
 * workers online, read from the queue's Redis keys (read-only).
 */
export class QueueStatusReader {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #estimator: WaitEstimator;
  readonly #registry: WorkerRegistry;

  constructor(redis: Redis, keys: QueueKeys, estimator: WaitEstimator, registry: WorkerRegistry) {
    this.#redis = redis;
    this.#keys = keys;
    this.#estimator = estimator;
    this.#registry = registry;
  }

  async describe(userId: string): Promise<string> {
    const now = Date.now();
    const [waiting, running] = await Promise.all([
      this.#redis.zrangebyscore(this.#keys.waiting('user', userId), now, '+inf'),
      this.#redis.zrangebyscore(this.#keys.running('user', userId), now, '+inf'),
    ]);
    const lines: string[] = [];
    const placed = new Set<string>();
    for (const model of modelKinds) {
      const places = await this.#estimator.places(model, waiting);
      places.forEach((place, index) => {
        const jobId = waiting[index] as string;
        if (place.position === 0 || placed.has(jobId)) return;
        placed.add(jobId);
        lines.push(
          `• ${modelNames[model]}: ${queuedText(place.position, place.estimatedWaitMs).replace(/^⏳ /, '')}`,
        );
      });
    }
    lines.push(...running.map(() => '• running now'));
    const yours = lines.length === 0 ? 'You have nothing in line.' : `Your requests:\n${lines.join('\n')}`;
    const models = await Promise.all(
      modelKinds.map(async (model) => {
        const [wait, prioritized, workers] = await Promise.all([
          this.#redis.llen(this.#keys.bullKey(model, 'wait')),
          this.#redis.zcard(this.#keys.bullKey(model, 'prioritized')),
          this.#registry.liveWorkers(model),
        ]);
        return `• ${modelNames[model]}: ${wait + prioritized} waiting, ${workers} worker${workers === 1 ? '' : 's'} online`;
      }),
    );
    return `${yours}\n\nQueue:\n${models.join('\n')}`;
  }
}
