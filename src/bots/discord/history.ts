import type { Message } from 'discord.js';
import type { Conversation } from '../../chat/index.js';
import { conversationOf } from './conversation.js';

export interface HistoryOptions {
  readonly botId: string;
  readonly nsfw: boolean;
  /** Earlier messages read at most. */
  readonly limit: number;
  /** The message was just given a thread of its own: nothing in it yet to read. */
  readonly newThread: boolean;
}

/**
 * The conversation a message continues: in a thread, its opening message and the thread so far;
 * in a direct message, the messages before it; elsewhere, the chain of messages it replies to.
 */
export async function readConversation(message: Message, options: HistoryOptions): Promise<Conversation> {
  const channel = message.channel;
  const earlier: Message[] = [];
  if (!options.newThread && (channel.isThread() || channel.isDMBased())) {
    const fetched = await channel.messages.fetch({ limit: options.limit, before: message.id });
    earlier.push(...[...fetched.values()].reverse());
    if (channel.isThread()) {
      const starter = await channel.fetchStarterMessage().catch(() => null);
      // A forum post's first message is in the thread itself, and already read.
      const read = starter === null || earlier.some((each) => each.id === starter.id);
      if (!read && earlier.length < options.limit) earlier.unshift(starter);
    }
  } else {
    for (
      let current = message;
      current.reference?.messageId !== undefined && earlier.length < options.limit;
    ) {
      const previous = await current.fetchReference().catch(() => null);
      if (previous === null) break;
      earlier.unshift(previous);
      current = previous;
    }
  }
  return conversationOf([...earlier, message], options.botId, options.nsfw);
}
