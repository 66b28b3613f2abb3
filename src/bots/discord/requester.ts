import {
  type AuditLog,
  type BuiltPrompt,
  buildPrompt,
  type Conversation,
  type Intent,
  loadConversationMedia,
  type Moderator,
  omissionNote,
  type PlatformFileFetcher,
  problemNotes,
  requestMessage,
  type TokenCounter,
} from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { EmuBotError, toEmuBotError } from '../../core/index.js';
import type { MediaDecoder } from '../../media/index.js';
import type { EnqueuedJob, JobRequest, JobSubmitter } from '../../queue/index.js';
import { type DiscordReference, encodeReference } from './reference.js';

/** What a person asked for, from a mention, a command or a button. */
export interface Ask {
  readonly conversation: Conversation;
  readonly intent: Intent;
  readonly userId: string;
  /** Where the answer goes; the requester adds what the prompt builder decided. */
  readonly reference: DiscordReference;
  /** Say which attachments were left out under the answer (no ephemeral messages for mentions). */
  readonly notesInReply?: boolean;
  /** For drawings: images to draw (different noise seeds from `seed` on), and overrides. */
  readonly drawing?: {
    readonly id: string;
    readonly count: number;
    readonly seed: number;
    readonly steps?: number;
    readonly guidanceScale?: number;
  };
}

export interface Submitted {
  readonly jobs: readonly EnqueuedJob[];
  /** Polite lines on attachments that were left out (the rest was still asked). */
  readonly problems: readonly string[];
  /** For drawings: the denoising steps asked (the request's or the model's default). */
  readonly steps?: number;
}

export interface RequesterParts {
  readonly config: Config;
  readonly moderator: Moderator;
  readonly fetcher: PlatformFileFetcher;
  readonly decoder: MediaDecoder;
  readonly counter: TokenCounter;
  readonly audit: AuditLog | undefined;
  readonly queue: () => JobSubmitter;
}

/**
 * A request's way into the queue, in the order that keeps bad requests cheap: moderation,
 * media download and decoding, the prompt, the audit record, then the job(s).
 */
export class Requester {
  readonly #parts: RequesterParts;

  constructor(parts: RequesterParts) {
    this.#parts = parts;
  }

  async submit(ask: Ask, signal?: AbortSignal): Promise<Submitted> {
    try {
      const built = await this.#build(ask, signal);
      await this.#audit(ask, 'queued', undefined, built.request.prompt);
      const jobs = await this.#enqueue(ask, built);
      const steps = built.kind === 'image' ? { steps: built.request.settings.steps } : {};
      return { jobs, problems: problemNotes(built.problems), ...steps };
    } catch (error) {
      const failure = toEmuBotError(error);
      const outcome =
        failure.code === 'PROMPT_BLOCKED' ? 'blocked' : failure.blame === 'input' ? 'refused' : 'failed';
      await this.#audit(ask, outcome, failure.code);
      throw failure;
    }
  }

  async #build(ask: Ask, signal?: AbortSignal): Promise<BuiltPrompt> {
    const { config, moderator } = this.#parts;
    // Every message read as context reaches the model, not only the request: an earlier message
    // in a thread or reply chain with a blocked word refuses the request too.
    moderator.checkText(requestMessage(ask.conversation)?.text ?? '');
    for (const message of ask.conversation.messages) moderator.checkText(message.text);
    if (ask.intent === 'imagine') moderator.checkImageGeneration(ask.conversation.channel);
    const outcomes = await loadConversationMedia(
      ask.conversation,
      this.#parts.fetcher,
      this.#parts.decoder,
      signal,
    );
    const drawing = ask.drawing;
    return buildPrompt(ask.conversation, outcomes, {
      intent: ask.intent,
      counter: this.#parts.counter,
      seed: drawing?.seed ?? 0,
      maxImages: config.queue.payload.maxImages,
      // Greedy search decides the answer token by token, so it can be shown as it grows.
      ...(config.discord.streamAnswers ? { text: { numBeams: 1 } } : {}),
      image: {
        ...(drawing?.steps === undefined ? {} : { steps: drawing.steps }),
        ...(drawing?.guidanceScale === undefined ? {} : { guidanceScale: drawing.guidanceScale }),
      },
    });
  }

  async #enqueue(ask: Ask, built: BuiltPrompt): Promise<EnqueuedJob[]> {
    const origin = (reference: DiscordReference) => ({
      platform: 'discord',
      userId: ask.userId,
      serverId: ask.conversation.serverId ?? null,
      reference: encodeReference(reference),
    });
    const queue = this.#parts.queue();
    if (built.kind === 'text') {
      const notes = [
        omissionNote(built.omission),
        ...(ask.notesInReply === true ? problemNotes(built.problems) : []),
      ];
      const note = notes.filter((line) => line !== undefined).join('\n-# ') || undefined;
      const reference = {
        ...ask.reference,
        ...(built.answerPrefix === '' ? {} : { answerPrefix: built.answerPrefix }),
        ...(note === undefined ? {} : { note }),
      };
      return [await queue.enqueue({ kind: 'text', origin: origin(reference), request: built.request })];
    }
    const drawing = ask.drawing;
    if (drawing === undefined) throw new EmuBotError('INTERNAL', 'a drawing was asked without its settings');
    const jobs: EnqueuedJob[] = [];
    for (let index = 0; index < drawing.count; index += 1) {
      const steps = built.request.settings.steps;
      const reference = { ...ask.reference, drawing: { id: drawing.id, index, count: drawing.count, steps } };
      const request: JobRequest = {
        kind: 'image',
        origin: origin(reference),
        request: { ...built.request, settings: { ...built.request.settings, seed: drawing.seed + index } },
      };
      jobs.push(await queue.enqueue(request));
    }
    return jobs;
  }

  async #audit(
    ask: Ask,
    outcome: 'queued' | 'blocked' | 'refused' | 'failed',
    code?: string,
    prompt?: string,
  ) {
    const audit = this.#parts.audit;
    if (audit === undefined) return;
    const { conversation } = ask;
    await audit.record({
      platform: 'discord',
      ...(conversation.serverId === undefined ? {} : { serverId: conversation.serverId }),
      channelId: conversation.channel.id,
      userId: ask.userId,
      intent: ask.intent,
      outcome,
      ...(code === undefined ? {} : { code }),
      ...(prompt === undefined ? {} : { prompt }),
    });
  }
}
