export { BotService, type BotServiceOptions } from './bot-service.js';
export { type CancelResult, JobClient, modelKinds } from './client.js';
export { createRedisConnection, type RedisConnectionOptions } from './connection.js';
export { isFinalFailure, toJobFailure } from './failure.js';
export { imageKeys, type JobScopeKeys, jobScopeKeys, jobTtlMs } from './job-keys.js';
export { readOrigin, validateJobData, validateJobRequest } from './job-schema.js';
export type {
  CompletedOutcome,
  EnqueuedJob,
  FailedOutcome,
  ImageJobRequest,
  ImageOutput,
  JobData,
  JobKind,
  JobOrigin,
  JobOutcome,
  JobProgress,
  JobRequest,
  JobUpdate,
  PriorityClass,
  StoredImage,
  TextJobRequest,
} from './job-types.js';
export { QueueKeys } from './keys.js';
export { QueueMetrics } from './metrics.js';
export {
  type OperationsServer,
  type OperationsServerOptions,
  type ReadinessReport,
  startOperationsServer,
} from './operations-server.js';
export type { BackendState, ModelReadiness, Readiness } from './readiness.js';
export type { BotAdapter, JobSubmitter, ReplySink } from './reply-sink.js';
export { failedOutcome, ResultPublisher } from './result-publisher.js';
export { releaseScript, startScript } from './scripts/admission.js';
export { WaitEstimator } from './wait-estimate.js';
export { WorkerRegistry } from './worker-registry.js';
