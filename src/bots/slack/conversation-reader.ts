import type { webApi } from '@slack/bolt';
import type { Attachment, AttachmentKind, ChatMessage, Conversation } from '../../chat/index.js';
import { plainText } from './mrkdwn.js';

/** The fields of a Slack message (event or conversations.replies) this adapter reads. */
export interface SlackMessage {
  readonly ts?: string | undefined;
  readonly thread_ts?: string | undefined;
  readonly user?: string | undefined;
  readonly bot_id?: string | undefined;
  readonly subtype?: string | undefined;
  readonly text?: string | undefined;
  readonly files?: readonly SlackFile[] | undefined;
  readonly metadata?: { readonly event_type?: string | undefined } | undefined;
}

export interface SlackFile {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly mimetype?: string | undefined;
  readonly size?: number | undefined;
  readonly url_private?: string | undefined;
  readonly url_private_download?: string | undefined;
}

export interface BotIdentity {
  readonly userId: string;
  readonly botId: string;
}

/** Marks the bot's answers (message metadata), so a thread's history tells them from status lines. */
export const answerEventType = 'emu_answer';

/** Pages of conversations.replies read at most: a thread longer than this is read from its start. */
const maxPages = 10;

/**
 * Reads a Slack thread into a Conversation, oldest first, up to and including `upToTs`: people's
 * messages with their files, and the bot's answers (status lines and other bots are left out).
 * Only the newest `historyMessages` are kept.
 */
export async function readThread(
  client: webApi.WebClient,
  where: { readonly teamId: string | undefined; readonly channel: string; readonly threadTs: string },
  upToTs: string,
  bot: BotIdentity,
  historyMessages: number,
): Promise<Conversation> {
  const messages: SlackMessage[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const answer = await client.conversations.replies({
      channel: where.channel,
      ts: where.threadTs,
      limit: 200,
      include_all_metadata: true,
      ...(cursor === undefined ? {} : { cursor }),
    });
    messages.push(...((answer.messages ?? []) as SlackMessage[]));
    cursor = answer.response_metadata?.next_cursor;
    if (cursor === undefined || cursor === '' || answer.has_more !== true) break;
  }
  const upTo = messages.filter((message) => Number(message.ts) <= Number(upToTs));
  return toConversation(upTo.slice(-historyMessages), where, bot);
}

/** A conversation from messages already at hand (a top-level mention, a shortcut's message). */
export function toConversation(
  messages: readonly SlackMessage[],
  where: { readonly teamId: string | undefined; readonly channel: string },
  bot: BotIdentity,
): Conversation {
  return {
    platform: 'slack',
    ...(where.teamId === undefined ? {} : { serverId: where.teamId }),
    channel: { id: where.channel, nsfw: false },
    messages: messages.flatMap((message) => toChatMessage(message, bot)),
  };
}

function toChatMessage(message: SlackMessage, bot: BotIdentity): ChatMessage[] {
  const fromBot = message.bot_id === bot.botId || message.user === bot.userId;
  if (fromBot) {
    const answer = message.metadata?.event_type === answerEventType || (message.files?.length ?? 0) > 0;
    if (!answer) return [];
  } else if (
    message.bot_id !== undefined ||
    message.subtype === 'bot_message' ||
    message.user === undefined
  ) {
    return [];
  }
  const ts = message.ts ?? '0';
  return [
    {
      id: ts,
      author: fromBot
        ? { id: bot.userId, name: 'Emu', role: 'bot' }
        : { id: message.user as string, name: message.user as string, role: 'person' },
      text: plainText(message.text ?? '', bot.userId),
      attachments: (message.files ?? []).flatMap(toAttachment),
      sentAt: Math.round(Number(ts) * 1000),
    },
  ];
}

function toAttachment(file: SlackFile): Attachment[] {
  const url = file.url_private_download ?? file.url_private;
  if (file.id === undefined || url === undefined) return [];
  return [
    {
      id: file.id,
      name: file.name ?? file.id,
      url,
      declaredKind: kindOf(file.mimetype),
      ...(file.mimetype === undefined ? {} : { declaredContentType: file.mimetype }),
      ...(file.size === undefined ? {} : { declaredBytes: file.size }),
    },
  ];
}

function kindOf(mimetype: string | undefined): AttachmentKind {
  if (mimetype === 'image/gif') return 'animated-image';
  if (mimetype?.startsWith('image/') === true) return 'image';
  if (mimetype?.startsWith('video/') === true) return 'video';
  return 'other';
}
