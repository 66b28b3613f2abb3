import { DelayedError, type Job, WaitingError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { EmuBotError, toEmuBotError } from '../core/index.js';
import type { RgbImage } from '../engine/index.js';
import {
  type CompletedOutcome,
  imageKeys,
  isFinalFailure,
  type JobData,
  jobScopeKeys,
  type QueueKeys,
  type QueueMetrics,
  type ResultPublisher,
  readOrigin,
  releaseScript,
  startScript,
  toJobFailure,
  validateJobData,
} from '../queue/index.js';
import type { Batcher, EngineOutput } from './batcher.js';
import { ProgressReporter } from './progress-reporter.js';

/** The abort reason of jobs handed back to the queue when a worker shuts down. */
export const handBack = new Error('the worker is shutting down; the job goes back to the queue');

/** How long a job waits before trying again when its user or server is at its running limit. */
const deferMs = 500;
const progressIntervalMs = 250;
const firstProgressMs = 100;

export interface ProcessorContext {
  readonly redis: Redis;
  readonly keys: QueueKeys;
  readonly config: Config;
  readonly batcher: Batcher;
  readonly publisher: ResultPublisher;
  readonly logger: Logger;
  readonly metrics: QueueMetrics | undefined;
  /** Abort controllers of the jobs this worker holds, by job id (cancellation, shutdown). */
  readonly inflight: Map<string, AbortController>;
}

export interface JobReturn {
  /** False when the job had been answered before this run (a re-run after a crash). */
  readonly published: boolean;
}

/** The BullMQ processor of a worker: one call per job taken. */
export function createProcessor(context: ProcessorContext) {
  return async (job: Job<JobData>, token?: string): Promise<JobReturn> => {
    const jobId = job.id as string;
    let data: JobData;
    try {
      data = validateJobData(job.data, context.config.queue.payload);
    } catch (error) {
      throw await rejectMalformed(context, job, error);
    }
    const { verdict, images } = await start(context, job, data);
    if (verdict === 'published') return { published: false };
    if (verdict === 'user-busy' || verdict === 'server-busy') {
      await job.moveToDelayed(Date.now() + deferMs, token);
      throw new DelayedError();
    }
    const controller = new AbortController();
    context.inflight.set(jobId, controller);
    const timer = setTimeout(
      () =>
        controller.abort(new EmuBotError('JOB_TIMEOUT', `job ${jobId} ran longer than queue.runTimeoutMs`)),
      context.config.queue.runTimeoutMs,
    );
    const reporter = new ProgressReporter(job, progressIntervalMs, firstProgressMs);
    try {
      if (verdict === 'cancelled') throw new EmuBotError('ABORTED', `job ${jobId} was cancelled`);
      checkWaited(job, data, context.config);
      context.metrics?.waitSeconds.observe(
        { model: data.model, kind: data.kind },
        (Date.now() - data.enqueuedAt) / 1000,
      );
      const task = { kind: data.kind, request: request(jobId, data, images) } as Parameters<
        Batcher['run']
      >[0];
      const output = await context.batcher.run(task, {
        signal: controller.signal,
        onText: reporter.onText,
        onProgress: reporter.onProgress,
      });
      record(context, data, output);
      const runTime = { model: data.model, perJobMs: output.perJobMs };
      const published = await context.publisher.publish(completedOutcome(jobId, data, output), data, runTime);
      return { published };
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      if (reason === handBack) return await giveBack(context, job, data, token);
      throw await fail(context, job, data, reason);
    } finally {
      clearTimeout(timer);
      reporter.stop();
      context.inflight.delete(jobId);
    }
  };
}

/** What `start` said: the verdict, and for a started job its stored images. */
interface StartVerdict {
  readonly verdict: 'started' | 'published' | 'cancelled' | 'user-busy' | 'server-busy';
  readonly images: readonly Buffer[];
}

/**
 * Runs `startScript` for the job. The jobs this worker takes in one turn of the event loop (a
 * batch's worth, when a batch finished together) start in one script call; a started job's
 * images come back with the verdict.
 */
async function start(context: ProcessorContext, job: Job<JobData>, data: JobData): Promise<StartVerdict> {
  const { keys, config, redis } = context;
  const jobId = job.id as string;
  const scope = jobScopeKeys(keys, data.origin);
  const now = Date.now();
  const limits = config.queue.limits;
  const reply = (await startScript.run(
    redis,
    [
      scope.userWaiting,
      scope.userRunning,
      scope.serverWaiting,
      scope.serverRunning,
      keys.cancelled(jobId),
      keys.published(jobId),
      ...imageKeys(keys, jobId, data.images.length),
    ],
    [
      jobId,
      now,
      now + config.queue.runTimeoutMs + config.worker.lockDurationMs,
      limits.userRunning,
      scope.hasServer ? limits.serverRunning : 0,
      config.queue.runTimeoutMs * config.queue.attempts + config.queue.waitTimeoutMs,
    ],
  )) as Buffer[];
  const [verdict, ...images] = reply;
  return { verdict: String(verdict) as StartVerdict['verdict'], images };
}

/** A job first taken after its wait timeout is answered instead of run (re-runs are exempt). */
function checkWaited(job: Job<JobData>, data: JobData, config: Config): void {
  const firstRun = job.attemptsMade === 0 && job.stalledCounter === 0;
  if (firstRun && Date.now() - data.enqueuedAt > config.queue.waitTimeoutMs) {
    throw new EmuBotError('JOB_TIMEOUT', `job ${job.id} waited longer than queue.waitTimeoutMs`, {
      userMessage: 'Your request waited too long in the queue, so I gave up. Please try again later.',
    });
  }
}

function request(jobId: string, data: JobData, stored: readonly Buffer[]) {
  const images: RgbImage[] = data.images.map((image, index) => {
    const bytes = stored[index];
    if (bytes === undefined || bytes.length === 0) {
      throw new EmuBotError('JOB_TIMEOUT', `the images of job ${jobId} expired before it ran`);
    }
    return { width: image.width, height: image.height, data: new Uint8Array(bytes) };
  });
  return { model: data.model, prompt: data.prompt, images, settings: data.settings };
}

function record(context: ProcessorContext, data: JobData, output: EngineOutput): void {
  const metrics = context.metrics;
  if (metrics === undefined) return;
  metrics.runSeconds.observe({ model: data.model, kind: data.kind }, output.runMs / 1000);
  if (output.kind === 'text') metrics.tokens.inc({ model: data.model }, output.result.tokenIds.length);
  else metrics.images.inc({ model: data.model });
}

function completedOutcome(jobId: string, data: JobData, output: EngineOutput): CompletedOutcome {
  const base = { jobId, kind: data.kind, origin: data.origin, status: 'completed' } as const;
  return output.kind === 'text' ? { ...base, text: output.result } : { ...base, image: output.result };
}

/** Counts the job as waiting again (handed back, or failed and about to be retried). */
async function release(context: ProcessorContext, jobId: string, data: JobData): Promise<void> {
  const scope = jobScopeKeys(context.keys, data.origin);
  await releaseScript.run(
    context.redis,
    [scope.userWaiting, scope.userRunning, scope.serverWaiting, scope.serverRunning],
    [jobId, Date.now() + context.config.queue.waitTimeoutMs, scope.hasServer ? 1 : 0],
  );
}

async function giveBack(
  context: ProcessorContext,
  job: Job<JobData>,
  data: JobData,
  token?: string,
): Promise<never> {
  await release(context, job.id as string, data);
  await job.moveToWait(token);
  context.logger.info({ jobId: job.id }, 'handed a job back to the queue');
  throw new WaitingError();
}

/** Answers a final failure once; a failure BullMQ will retry only counts the job as waiting again. */
async function fail(
  context: ProcessorContext,
  job: Job<JobData>,
  data: JobData,
  reason: unknown,
): Promise<Error> {
  const failure = toEmuBotError(reason);
  const final = isFinalFailure(failure) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  context.metrics?.failures.inc({ code: failure.code });
  if (final) await context.publisher.publishFailure(job.id as string, data, failure);
  else await release(context, job.id as string, data);
  if (failure.blame === 'system') context.logger.warn({ err: failure, jobId: job.id }, 'job failed');
  return toJobFailure(failure);
}

/** A malformed job is never retried; its sender is told when the origin can still be read. */
async function rejectMalformed(context: ProcessorContext, job: Job, error: unknown): Promise<Error> {
  const failure = toEmuBotError(error);
  context.metrics?.failures.inc({ code: failure.code });
  const origin = readOrigin(job.data, context.config.queue.payload);
  const kind = (job.data as { kind?: unknown } | null)?.kind === 'image' ? 'image' : 'text';
  if (origin !== undefined)
    await context.publisher.publishFailure(job.id as string, { origin, images: [], kind }, failure);
  context.logger.warn({ err: failure, jobId: job.id }, 'malformed job rejected');
  return toJobFailure(failure);
}
