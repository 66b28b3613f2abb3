import type { ModelKind } from '../engine/index.js';
import type { JobClient } from './client.js';
import { modelKinds } from './client.js';

export type BackendState = 'up' | 'down' | 'overloaded';

export interface ModelReadiness {
  readonly workers: number;
  readonly waiting: number;
  /** For a job enqueued now; an estimate from recent run times, `null` before any ran. */
  readonly estimatedWaitMs: number | null;
  readonly state: BackendState;
}

export interface Readiness {
  readonly ready: boolean;
  readonly redis: 'up' | 'down';
  readonly models?: Record<ModelKind, ModelReadiness>;
}

/**
 * Whether this bot process can serve people: Redis answers, at least one worker is alive, and
 * no model's estimated wait passes `queue.overloadWaitMs`. Each model says why when it is not.
 */
export async function backendReadiness(client: JobClient, overloadWaitMs: number): Promise<Readiness> {
  try {
    await client.redis.ping();
  } catch {
    return { ready: false, redis: 'down' };
  }
  const entries = await Promise.all(
    modelKinds.map(async (model): Promise<[ModelKind, ModelReadiness]> => {
      const [workers, counts, perJobMs] = await Promise.all([
        client.registry.liveWorkers(model),
        client.queue(model).getJobCounts('prioritized', 'wait'),
        client.estimator.perJobMs(model),
      ]);
      const waiting = (counts['prioritized'] ?? 0) + (counts['wait'] ?? 0);
      const estimatedWaitMs = client.estimator.estimate(waiting + 1, perJobMs, workers);
      const state: BackendState =
        workers === 0 ? 'down' : (estimatedWaitMs ?? 0) > overloadWaitMs ? 'overloaded' : 'up';
      return [model, { workers, waiting, estimatedWaitMs, state }];
    }),
  );
  const models = Object.fromEntries(entries) as Record<ModelKind, ModelReadiness>;
  const states = Object.values(models).map((model) => model.state);
  const ready = states.some((state) => state !== 'down') && !states.includes('overloaded');
  return { ready, redis: 'up', models };
}
