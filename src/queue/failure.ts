import { UnrecoverableError } from 'bullmq';
import { type EmuBotError, type ErrorCode, toEmuBotError } from '../core/index.js';

/**
 * Codes after which running the job again cannot help: the person cancelled it or it ran out of
 * time. Input-blamed codes (a malformed job, a prompt too long) are never retried either.
 */
const finalSystemCodes: ReadonlySet<ErrorCode> = new Set(['ABORTED', 'JOB_TIMEOUT', 'NO_WORKER_FOR_MODEL']);

/** Whether a failure ends the job now instead of being retried. */
export function isFinalFailure(error: EmuBotError): boolean {
  return error.blame === 'input' || finalSystemCodes.has(error.code);
}

/**
 * The one place where emu-bot's errors steer BullMQ: a failure that must not be retried becomes
 * BullMQ's `UnrecoverableError` (the original kept as `cause`); others are rethrown for BullMQ to
 * retry with backoff until `queue.attempts` runs out.
 */
export function toJobFailure(error: unknown): Error {
  const failure = toEmuBotError(error);
  if (!isFinalFailure(failure)) return failure;
  const unrecoverable = new UnrecoverableError(`${failure.code}: ${failure.message}`);
  unrecoverable.cause = failure;
  return unrecoverable;
}
