import type {
  GenerationProgress,
  ImageGenerationSettings,
  ImageRequest,
  ModelKind,
  TextGenerationSettings,
  TextRequest,
  TextResult,
} from '../engine/index.js';

/** Interactive requests (a person waiting in a channel) run before bulk ones. */
export type PriorityClass = 'interactive' | 'bulk';

export type JobKind = 'text' | 'image';

/** Who asked and where the answer goes; the queue reads only the ids, adapters the reference. */
export interface JobOrigin {
  /** The adapter that enqueued the job, e.g. `discord` or `slack`. */
  readonly platform: string;
  readonly userId: string;
  /** The Discord server or Slack workspace; `null` in direct messages. */
  readonly serverId: string | null;
  /** The adapter's own routing data (channel, message to edit), opaque to the queue, size-capped. */
  readonly reference: string;
}

interface JobRequestBase {
  readonly origin: JobOrigin;
  readonly priority?: PriorityClass;
}

export interface TextJobRequest extends JobRequestBase {
  readonly kind: 'text';
  readonly request: TextRequest;
}

export interface ImageJobRequest extends JobRequestBase {
  readonly kind: 'image';
  readonly request: ImageRequest;
}

/** What a bot adapter hands to `JobClient.enqueue`. */
export type JobRequest = TextJobRequest | ImageJobRequest;

/** An image stored beside the job (`QueueKeys.image`), as the job's data refers to it. */
export interface StoredImage {
  readonly width: number;
  readonly height: number;
}

/** The BullMQ job's data: bounded JSON; images travel as TTL'd binary keys, not in here. */
export interface JobData {
  readonly kind: JobKind;
  readonly model: ModelKind;
  readonly origin: JobOrigin;
  readonly priority: PriorityClass;
  readonly prompt: string;
  readonly images: readonly StoredImage[];
  readonly settings: TextGenerationSettings | ImageGenerationSettings;
  /** Epoch milliseconds when the bot accepted the request. */
  readonly enqueuedAt: number;
}

export interface EnqueuedJob {
  readonly jobId: string;
  readonly model: ModelKind;
  /** 1 is next in line. */
  readonly position: number;
  /** An estimate from recent run times, not a promise; `null` before any job has run. */
  readonly estimatedWaitMs: number | null;
}

export interface ImageOutput {
  readonly png: Uint8Array;
  readonly flagged: boolean;
}

interface OutcomeBase {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly origin: JobOrigin;
}

export interface CompletedOutcome extends OutcomeBase {
  readonly status: 'completed';
  readonly text?: TextResult;
  readonly image?: ImageOutput;
}

export interface FailedOutcome extends OutcomeBase {
  readonly status: 'failed';
  readonly code: string;
  /** Safe to show to the person who asked. */
  readonly userMessage: string;
}

/** The one final answer of a job, delivered once to a bot process. */
export type JobOutcome = CompletedOutcome | FailedOutcome;

/** A job's state as the person waiting sees it; sent only to the bot process that enqueued it. */
export type JobUpdate =
  | {
      readonly jobId: string;
      readonly state: 'queued';
      readonly position: number;
      readonly estimatedWaitMs: number | null;
    }
  | { readonly jobId: string; readonly state: 'deferred'; readonly reason: string }
  | { readonly jobId: string; readonly state: 'running'; readonly progress: JobProgress };

/** What a worker publishes while running a job. */
export interface JobProgress {
  /** Tokens decided so far (text jobs). */
  readonly tokens: number;
  /** The answer so far (greedy and sampling; beam search answers at the end). */
  readonly text: string;
  /** Denoising or regression steps (image jobs). */
  readonly step?: GenerationProgress;
}
