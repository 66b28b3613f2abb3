import type { CancelResult } from './client.js';
import type { EnqueuedJob, JobOutcome, JobRequest, JobUpdate } from './job-types.js';

/**
 * The port through which a bot adapter (Discord, Slack, console) receives what the queue has
 * for the people it serves. One sink per platform (`JobOrigin.platform`).
 */
export interface ReplySink {
  /** The platform whose jobs this sink answers. */
  readonly platform: string;
  /**
   * Posts a job's final answer. Called at most once per job across all bot processes while
   * each call either resolves (delivered) or rejects (tried again later); the job id is the
   * idempotency key to hand to a platform that takes one. Must finish within the delivery lease.
   */
  deliver(outcome: JobOutcome, signal: AbortSignal): Promise<void>;
  /**
   * Where a job this process enqueued stands (place in line and estimate, progress while it
   * runs). Best effort and frequent: keep it cheap.
   */
  update(update: JobUpdate): void;
}

/** What an adapter may ask of the queue. */
export interface JobSubmitter {
  enqueue(request: JobRequest): Promise<EnqueuedJob>;
  cancel(jobId: string): Promise<CancelResult>;
}

/**
 * A platform adapter as `emu-bot bot` and `emu-bot start` run it: it receives its platform's
 * events and enqueues jobs through the submitter, and answers through its `ReplySink` side.
 */
export interface BotAdapter extends ReplySink {
  start(queue: JobSubmitter, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
