import type { Attachment as DiscordAttachment, Message } from 'discord.js';
import type { Attachment, AttachmentKind, ChatMessage, Conversation } from '../../chat/index.js';

/** What the platform says a file is; the media code decides again from the bytes. */
export function declaredKind(contentType: string | null): AttachmentKind {
  if (contentType === null) return 'other';
  if (contentType.startsWith('image/gif') || contentType.startsWith('image/apng')) return 'animated-image';
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('video/')) return 'video';
  return 'other';
}

export function toAttachment(attachment: DiscordAttachment): Attachment {
  return {
    id: attachment.id,
    name: attachment.name,
    url: attachment.url,
    declaredKind: declaredKind(attachment.contentType),
    ...(attachment.contentType === null ? {} : { declaredContentType: attachment.contentType }),
    declaredBytes: attachment.size,
  };
}

/** Mentions of the bot are how people address it, not part of what they say. */
export function withoutMention(text: string, botId: string): string {
  return text.replaceAll(new RegExp(`<@!?${botId}>`, 'g'), '').trim();
}

export function toChatMessage(message: Message, botId: string): ChatMessage {
  const reply = message.reference?.messageId;
  return {
    id: message.id,
    author: {
      id: message.author.id,
      name: message.member?.displayName ?? message.author.username,
      role: message.author.id === botId ? 'bot' : 'person',
    },
    text: withoutMention(message.content, botId),
    attachments: [...message.attachments.values()].map(toAttachment),
    ...(reply === undefined ? {} : { replyToId: reply }),
    sentAt: message.createdTimestamp,
  };
}

/** The bot's waiting and error messages are not part of the conversation. */
export function isStatusMessage(message: ChatMessage): boolean {
  return message.author.role === 'bot' && /^(⏳|✍️|🎨|⚠️)/u.test(message.text);
}

export function conversationOf(messages: readonly Message[], botId: string, nsfw: boolean): Conversation {
  const last = messages.at(-1);
  if (last === undefined) throw new Error('a conversation needs a message');
  const chat = messages
    .map((message) => toChatMessage(message, botId))
    .filter((message) => !isStatusMessage(message));
  return {
    platform: 'discord',
    ...(last.guildId === null ? {} : { serverId: last.guildId }),
    channel: { id: last.channelId, nsfw },
    messages: chat,
  };
}
