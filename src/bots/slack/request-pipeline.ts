import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type AuditLog,
  type AuditOutcome,
  buildPrompt,
  type Conversation,
  type Intent,
  loadConversationMedia,
  type Moderator,
  type Omission,
  omissionNote,
  type PlatformFileFetcher,
  problemNotes,
  requestMessage,
  type TokenCounter,
  toPromptMaterial,
} from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { describeErrorCode, type EmuBotError, toEmuBotError } from '../../core/index.js';
import type { MediaDecoder, MediaOutcome } from '../../media/index.js';
import type { EnqueuedJob, JobRequest, JobSubmitter } from '../../queue/index.js';
import { encodeReference, type SlackJobReference } from './job-reference.js';
import type { SlackStore } from './slack-store.js';

/** One request from a person in Slack, with the status message already posted in its thread. */
export interface Ask {
  readonly conversation: Conversation;
  readonly intent: Intent;
  readonly userId: string;
  readonly teamId: string | undefined;
  readonly channel: string;
  readonly threadTs: string;
  readonly statusTs: string;
  /** A few words for `/emu queue`. */
  readonly what: string;
  readonly drawing?: DrawingSettings;
}

export interface DrawingSettings {
  readonly seed?: number;
  readonly steps: number | null;
  readonly guidance: number | null;
  /** The record behind the image's buttons; drawings asked for by mention have none. */
  readonly drawingId?: string;
}

export interface Submitted {
  readonly enqueued: EnqueuedJob;
  readonly reference: SlackJobReference;
}

export interface PipelineParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly moderator: Moderator;
  readonly fetcher: PlatformFileFetcher;
  readonly decoder: MediaDecoder;
  readonly counter: TokenCounter;
  readonly audit: AuditLog | undefined;
  readonly store: SlackStore;
}

/**
 * A request's way into the queue, in the order the chat module asks for: moderation, then the
 * media, then the prompt, then the audit record, then the queue. Refusals and failures are
 * EmuBotErrors with a message for the person; they are audited and thrown to the caller.
 */
export class RequestPipeline {
  readonly #parts: PipelineParts;

  constructor(parts: PipelineParts) {
    this.#parts = parts;
  }

  async submit(ask: Ask, queue: JobSubmitter, signal: AbortSignal): Promise<Submitted> {
    const { config, moderator, store } = this.#parts;
    const request = requestMessage(ask.conversation);
    try {
      moderator.checkText(request?.text ?? '');
      if (ask.intent === 'imagine') moderator.checkImageGeneration(ask.conversation.channel);
    } catch (error) {
      throw await this.#refused(ask, toEmuBotError(error), 'blocked');
    }
    let job: JobRequest;
    let prompt: string;
    let reference: SlackJobReference;
    let kept: string[];
    try {
      const outcomes = await loadConversationMedia(
        ask.conversation,
        this.#parts.fetcher,
        this.#parts.decoder,
        signal,
      );
      const built = buildPrompt(ask.conversation, outcomes, {
        intent: ask.intent,
        counter: this.#parts.counter,
        seed: ask.drawing?.seed ?? randomInt(0, 2 ** 31),
        maxImages: config.queue.payload.maxImages,
        ...(config.slack.streamAnswers ? { text: { numBeams: 1 } } : {}),
        image: {
          ...(ask.drawing?.steps == null ? {} : { steps: ask.drawing.steps }),
          ...(ask.drawing?.guidance == null ? {} : { guidanceScale: ask.drawing.guidance }),
        },
      });
      const notes = [omissionNote(built.omission), ...problemNotes(built.problems)].filter(
        (note): note is string => note !== undefined,
      );
      reference = {
        channel: ask.channel,
        threadTs: ask.threadTs,
        statusTs: ask.statusTs,
        answerPrefix: built.kind === 'text' ? built.answerPrefix : '',
        notes,
        ...(ask.drawing?.drawingId === undefined ? {} : { drawingId: ask.drawing.drawingId }),
        ...(built.kind === 'image' ? { drawnFrom: ask.what } : {}),
      };
      const origin = {
        platform: 'slack',
        userId: ask.userId,
        serverId: ask.teamId ?? null,
        reference: encodeReference(reference, config.queue.payload.maxReferenceBytes),
      };
      job =
        built.kind === 'text'
          ? { kind: 'text', origin, request: built.request }
          : { kind: 'image', origin, request: built.request };
      prompt = built.request.prompt;
      kept = keptTexts(ask.conversation, outcomes, ask.intent, built.omission);
    } catch (error) {
      throw await this.#refused(ask, toEmuBotError(error), 'refused');
    }
    try {
      for (const text of kept) moderator.checkText(text);
    } catch (error) {
      throw await this.#refused(ask, toEmuBotError(error), 'blocked');
    }
    let enqueued: EnqueuedJob;
    try {
      enqueued = await queue.enqueue(job);
    } catch (error) {
      throw await this.#refused(ask, toEmuBotError(error), 'refused');
    }
    await this.#audit(ask, 'queued', undefined, prompt);
    await store.addPersonJob(ask.userId, {
      jobId: enqueued.jobId,
      what: ask.what,
      channel: ask.channel,
      at: Date.now(),
    });
    await store.joinThread(ask.channel, ask.threadTs);
    return { enqueued, reference };
  }

  async #refused(ask: Ask, error: EmuBotError, outcome: AuditOutcome): Promise<EmuBotError> {
    const audited = describeErrorCode(error.code).blame === 'system' ? 'failed' : outcome;
    await this.#audit(ask, audited, error.code, requestMessage(ask.conversation)?.text);
    return error;
  }

  async #audit(
    ask: Ask,
    outcome: AuditOutcome,
    code: string | undefined,
    prompt: string | undefined,
  ): Promise<void> {
    try {
      await this.#parts.audit?.record({
        platform: 'slack',
        ...(ask.teamId === undefined ? {} : { serverId: ask.teamId }),
        channelId: ask.channel,
        userId: ask.userId,
        intent: ask.intent,
        outcome,
        ...(code === undefined ? {} : { code }),
        ...(prompt === undefined ? {} : { prompt }),
      });
    } catch (error) {
      this.#parts.logger.warn({ err: error }, 'writing the audit record failed');
    }
  }
}

/**
 * The texts of the messages a prompt keeps, for moderation. An answer or continuation keeps the
 * thread up to the request, less empty messages and those the budget dropped, which are always
 * the oldest (Slack messages reply to no other message, so none is pinned); a description or a
 * drawing keeps the request alone, which was checked first.
 */
function keptTexts(
  conversation: Conversation,
  outcomes: ReadonlyMap<string, MediaOutcome>,
  intent: Intent,
  omission: Omission,
): string[] {
  const request = requestMessage(conversation);
  if (request === undefined || (intent !== 'answer' && intent !== 'continue')) return [];
  const upToRequest = conversation.messages.slice(0, conversation.messages.indexOf(request) + 1);
  const material = toPromptMaterial({ ...conversation, messages: upToRequest }, outcomes).messages;
  const nonEmpty = upToRequest.filter((_, index) => {
    const message = material[index];
    return message !== undefined && (message.text !== '' || message.media.length > 0);
  });
  return nonEmpty.slice(omission.messages, -1).map((message) => message.text);
}
