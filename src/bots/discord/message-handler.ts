import { ChannelType, type Message, type SendableChannels } from 'discord.js';
import type { Logger } from 'pino';
import { defaultIntent } from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { toEmuBotError } from '../../core/index.js';
import { isAllowed } from './access.js';
import { cancelRow } from './components.js';
import { readConversation } from './history.js';
import { isNsfw } from './interaction-place.js';
import type { JobViews } from './job-views.js';
import type { DiscordReference } from './reference.js';
import type { DiscordReplies } from './replies.js';
import type { Requester } from './requester.js';
import { queuedText } from './status-text.js';

export interface MessageParts {
  readonly settings: Config['discord'];
  readonly requester: Requester;
  readonly views: JobViews;
  readonly replies: DiscordReplies;
  readonly logger: Logger;
}

const waitingText = '⏳ Reading…';

/**
 * Mentions, replies to the bot, messages in the bot's threads and (by configuration) direct
 * messages. The message is acknowledged first with a waiting message (in a new thread, or
 * inline), then the thread is read, the request queued, and the waiting message becomes the answer.
 */
export class MessageHandler {
  readonly #parts: MessageParts;

  constructor(parts: MessageParts) {
    this.#parts = parts;
  }

  async handle(message: Message): Promise<void> {
    const botId = message.client.user.id;
    // Other bots and the bot itself are never answered (no loops between bots).
    if (message.author.bot || message.system) return;
    const channel = message.channel;
    const thread = channel.isThread() ? channel : null;
    const inOwnThread = thread !== null && thread.ownerId === botId;
    const addressed =
      message.mentions.users.has(botId) || message.mentions.repliedUser?.id === botId || inOwnThread;
    if (channel.isDMBased() ? !this.#parts.settings.directMessages : !addressed) return;
    const place = {
      serverId: message.guildId,
      channelId: channel.id,
      parentId: thread?.parentId ?? null,
      roleIds: message.member === null ? [] : [...message.member.roles.cache.keys()],
    };
    if (!isAllowed(this.#parts.settings, place)) return;

    const waiting = await this.#acknowledge(message);
    const reference: DiscordReference = {
      channelId: waiting.channelId,
      userId: message.author.id,
      messageId: waiting.id,
    };
    try {
      const conversation = await readConversation(message, {
        botId,
        nsfw: isNsfw(channel),
        limit: this.#parts.settings.historyMessages,
        newThread: waiting.channelId !== channel.id,
      });
      const { jobs } = await this.#parts.requester.submit({
        conversation,
        intent: defaultIntent(conversation),
        userId: message.author.id,
        reference,
        notesInReply: true,
      });
      for (const job of jobs) {
        this.#parts.views.track(job.jobId, reference, {
          content: queuedText(job.position, job.estimatedWaitMs),
          components: cancelRow({ jobId: job.jobId, userId: message.author.id }),
        });
      }
    } catch (error) {
      const failure = toEmuBotError(error);
      if (failure.blame === 'system') this.#parts.logger.warn({ err: failure }, 'Discord message failed');
      await this.#parts.replies.edit(reference, { content: `⚠️ ${failure.userMessage}` });
    }
  }

  /** The waiting message: in a thread started from the message, or as a reply to it. */
  async #acknowledge(message: Message): Promise<Message> {
    const channel = message.channel;
    const threadable =
      channel.type === ChannelType.GuildText || channel.type === ChannelType.GuildAnnouncement;
    if (threadable && this.#parts.settings.replyIn === 'thread' && !message.hasThread) {
      const thread = await message.startThread({ name: threadName(message.cleanContent) });
      return thread.send({ content: waitingText, allowedMentions: { parse: [] } });
    }
    if (channel.isThread() && channel.ownerId === message.client.user.id) {
      return (channel as SendableChannels).send({ content: waitingText, allowedMentions: { parse: [] } });
    }
    return message.reply({ content: waitingText, allowedMentions: { parse: [], repliedUser: false } });
  }
}

/** Thread names: the request's first words, within Discord's 100 characters. */
function threadName(text: string): string {
  const name = text
    .replace(/^@\S+\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (name === '') return 'Emu';
  return name.length <= 90 ? name : `${name.slice(0, 89)}…`;
}
