import { DiscordAPIError, MessageFlags, type REST, Routes } from 'discord.js';
import type { DiscordReference } from './reference.js';

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
  readonly #now: () => number;

  constructor(rest: REST, now: () => number = Date.now) {
    this.#rest = rest;
    this.#now = now;
  }

  /** Replaces what the job's own message shows (the deferred reply or the bot's waiting message). */
  async edit(reference: DiscordReference, payload: ReplyPayload): Promise<void> {
    const { interaction } = reference;
    if (interaction !== undefined && this.#fresh(interaction.id)) {
      const route = Routes.webhookMessage(interaction.applicationId, interaction.token, '@original');
      if (await this.#tryInteraction(() => this.#rest.patch(route, this.#options(payload, false)))) return;
    }
    if (reference.messageId !== undefined) {
      const route = Routes.channelMessage(reference.channelId, reference.messageId);
      await this.#rest.patch(route, this.#options(payload, true));
      return;
    }
    await this.post(reference, payload);
  }

  /**
   * Posts another message for the job. `nonce` (at most 25 characters) makes a retried post a
   * no-op where Discord supports it (channel messages).
   */
  async post(reference: DiscordReference, payload: ReplyPayload, nonce?: string): Promise<void> {
    const { interaction } = reference;
    if (interaction !== undefined && this.#fresh(interaction.id)) {
      const route = Routes.webhook(interaction.applicationId, interaction.token);
      const options = { ...this.#options(payload, false), query: new URLSearchParams({ wait: 'true' }) };
      if (await this.#tryInteraction(() => this.#rest.post(route, options))) return;
    }
    // Past the interaction, the person is mentioned so that the answer still reaches them.
    const mention = interaction === undefined ? '' : `<@${reference.userId}> `;
    const content = `${mention}${payload.content}`.slice(0, 2000);
    const options = this.#options({ ...payload, content }, true, reference.userId);
    const withNonce = nonce === undefined ? {} : { nonce, enforce_nonce: true };
    await this.#rest.post(Routes.channelMessages(reference.channelId), {
      ...options,
      body: { ...options.body, ...withNonce },
    });
  }

  /** An ephemeral follow-up only the person sees; dropped when the token has expired. */
  async whisper(reference: DiscordReference, content: string): Promise<void> {
    const { interaction } = reference;
    if (interaction === undefined || !this.#fresh(interaction.id)) return;
    const route = Routes.webhook(interaction.applicationId, interaction.token);
    await this.#tryInteraction(() =>
      this.#rest.post(route, { body: { content, flags: MessageFlags.Ephemeral }, auth: false }),
    );
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
