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
import type { RestLanes } from './rest-lanes.js';
import { queuedText } from './status-text.js';

export interface MessageParts {
  readonly settings: Config['discord'];
  readonly requester: Requester;
  readonly views: JobViews;
  readonly replies: DiscordReplies;
  readonly lanes?: RestLanes;
  readonly logger: Logger;
}

const waitingText = '⏳ Reading…';

/** Where a message was acknowledged: a new thread (no message yet), or a waiting message. */
interface Acknowledgement {
  readonly channelId: string;
  readonly messageId?: string;
}

/**
 * Mentions, replies to the bot, messages in the bot's threads and (by configuration) direct
 * messages. The message is acknowledged first, with one request that goes before any other the
 * bot has waiting (a thread started from it, or a waiting message inline), then the conversation
 * is read and the request queued; the thread's waiting message (place in line, progress) follows
 * when Discord's rate limit leaves room, and becomes the answer.
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
      ...(waiting.messageId === undefined ? {} : { messageId: waiting.messageId }),
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
      await this.#parts.replies.edit(reference, { content: `⚠️ ${failure.userMessage}` }, 'final');
    }
  }

  /** One request: a thread started from the message, or a waiting message in the thread or as a reply. */
  async #acknowledge(message: Message): Promise<Acknowledgement> {
    const urgent = <T>(call: () => Promise<T>) =>
      this.#parts.lanes === undefined ? call() : this.#parts.lanes.urgent(call);
    const channel = message.channel;
    const threadable =
      channel.type === ChannelType.GuildText || channel.type === ChannelType.GuildAnnouncement;
    if (threadable && this.#parts.settings.replyIn === 'thread' && !message.hasThread) {
      const thread = await urgent(() => message.startThread({ name: threadName(message.cleanContent) }));
      return { channelId: thread.id };
    }
    const sent = await urgent<Message>(() =>
      channel.isThread() && channel.ownerId === message.client.user.id
        ? (channel as SendableChannels).send({ content: waitingText, allowedMentions: { parse: [] } })
        : message.reply({ content: waitingText, allowedMentions: { parse: [], repliedUser: false } }),
    );
    return { channelId: sent.channelId, messageId: sent.id };
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
