import type { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import { type EmuBotError, toEmuBotError } from '../core/index.js';
import type { ModelKind } from '../engine/index.js';
import { imageKeys, jobScopeKeys } from './job-keys.js';
import type { FailedOutcome, JobData, JobOutcome } from './job-types.js';
import type { QueueKeys } from './keys.js';
import { encodeOutcome } from './outcome-codec.js';
import { publishScript } from './scripts/delivery.js';

/**
 * Publishes jobs' outcomes to the results stream, once per job however often it is called
 * (`publishScript`): a worker, a re-run after a crash, a cancellation and the janitor may all
 * try, and the first wins.
 */
export class ResultPublisher {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #ttlMs: number;

  constructor(redis: Redis, keys: QueueKeys, queue: Config['queue']) {
    this.#redis = redis;
    this.#keys = keys;
    this.#ttlMs = queue.resultTtlMs;
  }

  /**
   * Resolves to true when this call published, false when the job had been answered already.
   * `runTime` is the job's share of its batch's run time, for estimated waits.
   */
  async publish(
    outcome: JobOutcome,
    data: Pick<JobData, 'origin' | 'images'>,
    runTime?: { readonly model: ModelKind; readonly perJobMs: number },
  ): Promise<boolean> {
    const scope = jobScopeKeys(this.#keys, data.origin);
    const keys = [
      this.#keys.published(outcome.jobId),
      this.#keys.results(outcome.origin.platform),
      scope.userWaiting,
      scope.userRunning,
      scope.serverWaiting,
      scope.serverRunning,
      this.#keys.runTimes,
      ...imageKeys(this.#keys, outcome.jobId, data.images.length),
    ];
    const oldest = `${Date.now() - this.#ttlMs}-0`;
    const args = [
      outcome.jobId,
      this.#ttlMs,
      oldest,
      runTime?.model ?? '',
      runTime?.perJobMs ?? '',
      ...encodeOutcome(outcome),
    ];
    return (await publishScript.run(this.#redis, keys, args)) === 1;
  }

  publishFailure(jobId: string, data: Pick<JobData, 'origin' | 'images' | 'kind'>, error: unknown) {
    return this.publish(failedOutcome(jobId, data, toEmuBotError(error)), data);
  }
}

export function failedOutcome(
  jobId: string,
  data: Pick<JobData, 'origin' | 'kind'>,
  error: EmuBotError,
): FailedOutcome {
  return {
    jobId,
    kind: data.kind,
    origin: data.origin,
    status: 'failed',
    code: error.code,
    userMessage: error.userMessage,
  };
}
