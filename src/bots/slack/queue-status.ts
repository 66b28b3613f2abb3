import type { Redis } from 'ioredis';
import { modelKinds, QueueKeys, WaitEstimator, WorkerRegistry } from '../../queue/index.js';
import { escapeMrkdwn } from './mrkdwn.js';
import type { PersonJob } from './slack-store.js';
import { formatWait } from './status-text.js';

const modelNames = { instruct: 'answers', pretrain: 'drawings' } as const;

/**
 * `/emu queue`: the person's requests, each with its place in line (and estimated wait) or
 * "running", then each model's queue depth and the workers online. Read-only, through the
 * queue's public keys, wait estimator and worker registry.
 */
export class QueueStatus {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #estimator: WaitEstimator;
  readonly #registry: WorkerRegistry;

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#keys = new QueueKeys(keyPrefix);
    this.#registry = new WorkerRegistry(redis, this.#keys);
    this.#estimator = new WaitEstimator(redis, this.#keys, this.#registry);
  }

  async describe(userId: string, jobs: readonly PersonJob[]): Promise<string> {
    const [yours, queue] = await Promise.all([this.#yours(userId, jobs), this.#queue()]);
    return `${yours}\n\n*Queue*\n${queue.join('\n')}`;
  }

  async #yours(userId: string, jobs: readonly PersonJob[]): Promise<string> {
    if (jobs.length === 0) return 'You have no requests waiting or running.';
    const ids = jobs.map((job) => job.jobId);
    const [running, ...places] = await Promise.all([
      this.#redis.zrangebyscore(this.#keys.running('user', userId), Date.now(), '+inf'),
      ...modelKinds.map((model) => this.#estimator.places(model, ids)),
    ]);
    const lines = jobs.map((job, index) => {
      const where = `${escapeMrkdwn(job.what)} in <#${job.channel}>`;
      if (running.includes(job.jobId)) return `• ${where}: running now`;
      const place = places.map((list) => list[index]).find((entry) => (entry?.position ?? 0) > 0);
      if (place === undefined) return `• ${where}: finishing`;
      const wait = place.estimatedWaitMs === null ? '' : ` (about ${formatWait(place.estimatedWaitMs)})`;
      return `• ${where}: number ${place.position} in line${wait}`;
    });
    const count = `${jobs.length} request${jobs.length === 1 ? '' : 's'}`;
    return [`You have ${count} waiting or running:`, ...lines].join('\n');
  }

  async #queue(): Promise<string[]> {
    return Promise.all(
      modelKinds.map(async (model) => {
        const [waiting, prioritized, workers] = await Promise.all([
          this.#redis.llen(this.#keys.bullKey(model, 'wait')),
          this.#redis.zcard(this.#keys.bullKey(model, 'prioritized')),
          this.#registry.liveWorkers(model),
        ]);
        const online = `${workers} worker${workers === 1 ? '' : 's'} online`;
        return `• ${modelNames[model]}: ${waiting + prioritized} waiting, ${online}`;
      }),
    );
  }
}
