import type { Config } from '../config/index.js';
import type { JobOrigin } from './job-types.js';
import type { QueueKeys } from './keys.js';

/** The bookkeeping keys of one job: its user's and server's waiting and running sets. */
export interface JobScopeKeys {
  readonly userWaiting: string;
  readonly userRunning: string;
  readonly serverWaiting: string;
  readonly serverRunning: string;
  /** False in direct messages: the server keys are placeholders nothing counts in. */
  readonly hasServer: boolean;
}

export function jobScopeKeys(keys: QueueKeys, origin: JobOrigin): JobScopeKeys {
  const server = origin.serverId ?? '-';
  return {
    userWaiting: keys.waiting('user', origin.userId),
    userRunning: keys.running('user', origin.userId),
    serverWaiting: keys.waiting('server', server),
    serverRunning: keys.running('server', server),
    hasServer: origin.serverId !== null,
  };
}

export function imageKeys(keys: QueueKeys, jobId: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => keys.image(jobId, index));
}

/**
 * How long a job's own keys (images, waiting entries) live: long enough to wait, run every
 * attempt and be answered; they are deleted sooner when the job is answered.
 */
export function jobTtlMs(queue: Config['queue']): number {
  return queue.waitTimeoutMs + queue.runTimeoutMs * queue.attempts + 60_000;
}
