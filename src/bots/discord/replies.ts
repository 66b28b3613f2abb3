import { DiscordAPIError, MessageFlags, type REST, Routes } from 'discord.js';
import type { DiscordReference } from './reference.js';
import type { LaterPriority, RestLanes } from './rest-lanes.js';

export interface ReplyFile {
  readonly name: string;
  readonly data: Uint8Array;
  readonly description?: string;
}

/** One message's content as the adapter builds it; components are Discord's JSON. */
export interface ReplyPayload {
  readonly content: string;
  readonly files?: readonly ReplyFile[];
  readonly components?: readonly unknown[];
}

/** Interaction tokens last 15 minutes; the margin covers a slow upload. */
const interactionTokenLifetimeMs = 14 * 60_000;
const discordEpochMs = 1_420_070_400_000n;

/** Discord's codes for an interaction token that no longer works. */
const expiredTokenCodes = new Set([50027, 10015, 10062]);
const unknownMessage = 10008;

export interface RepliesParts {
  /** The bot's REST client (bot token, Discord's global limit of 50 requests a second). */
  readonly rest: REST;
  /**
   * For interaction webhooks, which their token authorises: Discord does not count them against
   * the bot's global limit, so they get a client of their own (no bot token). Defaults to `rest`.
   */
  readonly webhooks?: REST;
  /** Orders the bot's requests behind acknowledgements; without it they go straight to `rest`. */
  readonly lanes?: RestLanes;
  /** Orders interaction webhooks: answers before progress. */
  readonly webhookLanes?: RestLanes;
  readonly now?: () => number;
}

export function snowflakeTime(id: string): number {
  return Number((BigInt(id) >> 22n) + discordEpochMs);
}

/**
 * Posts and edits a job's messages from its reference alone, over REST, so that any bot process
 * can do it: through the interaction while its token lives, otherwise in the channel or thread,
 * mentioning the person.
 */
export class DiscordReplies {
  readonly #rest: REST;
  readonly #webhooks: REST;
  readonly #lanes: RestLanes | undefined;
  readonly #webhookLanes: RestLanes | undefined;
  readonly #now: () => number;

  constructor(parts: RepliesParts) {
    this.#rest = parts.rest;
    this.#webhooks = parts.webhooks ?? parts.rest;
    this.#lanes = parts.lanes;
    this.#webhookLanes = parts.webhookLanes;
    this.#now = parts.now ?? Date.now;
  }

  /**
   * Replaces what the job's own message shows (the deferred reply or the bot's waiting message);
   * without either, posts it (with `nonce`) and resolves to the new message's id.
   */
  async edit(
    reference: DiscordReference,
    payload: ReplyPayload,
    priority: LaterPriority = 'final',
    nonce?: string,
  ): Promise<string | undefined> {
    const { interaction } = reference;
    if (interaction !== undefined && this.#fresh(interaction.id)) {
      const route = Routes.webhookMessage(interaction.applicationId, interaction.token, '@original');
      const options = this.#options(payload, false);
      const sent = await this.#tryInteraction(() =>
        this.#hook(priority, () => this.#webhooks.patch(route, options)),
      );
      if (sent) return undefined;
    }
    if (reference.messageId !== undefined) {
      const route = Routes.channelMessage(reference.channelId, reference.messageId);
      await this.#bot(priority, () => this.#rest.patch(route, this.#options(payload, true)));
      return reference.messageId;
    }
    return this.post(reference, payload, nonce, priority);
  }

  /**
   * Posts another message for the job, resolving to its id when posted in the channel. `nonce`
   * (at most 25 characters) makes a retried post a no-op where Discord supports it (channel
   * messages).
   */
  async post(
    reference: DiscordReference,
    payload: ReplyPayload,
    nonce?: string,
    priority: LaterPriority = 'final',
  ): Promise<string | undefined> {
    const { interaction } = reference;
    if (interaction !== undefined && this.#fresh(interaction.id)) {
      const route = Routes.webhook(interaction.applicationId, interaction.token);
      const options = { ...this.#options(payload, false), query: new URLSearchParams({ wait: 'true' }) };
      const sent = await this.#tryInteraction(() =>
        this.#hook(priority, () => this.#webhooks.post(route, options)),
      );
      if (sent) return undefined;
    }
    // Past the interaction, the person is mentioned so that the answer still reaches them.
    const mention = interaction === undefined ? '' : `<@${reference.userId}> `;
    const content = `${mention}${payload.content}`.slice(0, 2000);
    const options = this.#options({ ...payload, content }, true, reference.userId);
    const withNonce = nonce === undefined ? {} : { nonce, enforce_nonce: true };
    const posted = (await this.#bot(priority, () =>
      this.#rest.post(Routes.channelMessages(reference.channelId), {
        ...options,
        body: { ...options.body, ...withNonce },
      }),
    )) as { id?: unknown } | undefined;
    return typeof posted?.id === 'string' ? posted.id : undefined;
  }

  /** An ephemeral follow-up only the person sees; dropped when the token has expired. */
  async whisper(reference: DiscordReference, content: string): Promise<boolean> {
    const { interaction } = reference;
    if (interaction === undefined || !this.#fresh(interaction.id)) return false;
    const route = Routes.webhook(interaction.applicationId, interaction.token);
    return this.#tryInteraction(() =>
      this.#hook('final', () =>
        this.#webhooks.post(route, {
          body: { content, flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } },
          auth: false,
        }),
      ),
    );
  }

  /**
   * A job's failure, shown to the person alone while the interaction's token lives: an ephemeral
   * follow-up, and the public reply that showed the job removed. False when there is no live
   * interaction, so the caller says it in the channel instead.
   */
  async failPrivately(reference: DiscordReference, content: string): Promise<boolean> {
    const { interaction } = reference;
    if (!(await this.whisper(reference, content)) || interaction === undefined) return false;
    const route = Routes.webhookMessage(interaction.applicationId, interaction.token, '@original');
    try {
      await this.#hook('final', () => this.#webhooks.delete(route, { auth: false }));
    } catch (error) {
      // Already removed (a retried delivery), or the token ran out meanwhile: the person knows.
      if (!(error instanceof DiscordAPIError)) throw error;
      if (Number(error.code) !== unknownMessage && !expiredTokenCodes.has(Number(error.code))) throw error;
    }
    return true;
  }

  #bot<T>(priority: LaterPriority, call: () => Promise<T>): Promise<T> {
    return this.#lanes === undefined ? call() : this.#lanes.later(priority, call);
  }

  #hook<T>(priority: LaterPriority, call: () => Promise<T>): Promise<T> {
    return this.#webhookLanes === undefined ? call() : this.#webhookLanes.later(priority, call);
  }

  #fresh(interactionId: string): boolean {
    return this.#now() - snowflakeTime(interactionId) < interactionTokenLifetimeMs;
  }

  /** False when the interaction's token no longer works, so the caller falls back to the channel. */
  async #tryInteraction(call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (error instanceof DiscordAPIError && expiredTokenCodes.has(Number(error.code))) return false;
      throw error;
    }
  }

  /** `auth` false for interaction webhooks, which their token authorises (the bot token is not sent). */
  #options(payload: ReplyPayload, auth: boolean, mentionedUserId?: string) {
    const files = payload.files ?? [];
    return {
      auth,
      body: {
        content: payload.content,
        ...(payload.components === undefined ? {} : { components: payload.components }),
        // Echoed text never pings anyone; only the person who asked, when mentioned on purpose.
        allowed_mentions: mentionedUserId === undefined ? { parse: [] } : { users: [mentionedUserId] },
        ...(files.length === 0
          ? {}
          : {
              attachments: files.map((file, id) => ({
                id,
                filename: file.name,
                ...(file.description === undefined ? {} : { description: file.description }),
              })),
            }),
      },
      files: files.map((file) => ({
        name: file.name,
        data: Buffer.from(file.data),
        contentType: 'image/png',
      })),
    };
  }
}
