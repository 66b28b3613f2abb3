/**
 * A chat thread as emu-bot sees it, whatever the platform: plain data that adapters fill from
 * Discord or Slack events and that the prompt builder reads. Messages are oldest first.
 */

export type Platform = 'discord' | 'slack' | 'console';

/** A person, or emu-bot itself (its earlier replies become the model's assistant turns). */
export type AuthorRole = 'person' | 'bot';

/** What the platform says an attachment is; the media code decides again from the bytes. */
export type AttachmentKind = 'image' | 'animated-image' | 'video' | 'other';

export interface Author {
  readonly id: string;
  readonly name: string;
  readonly role: AuthorRole;
}

export interface Attachment {
  /** Unique within the conversation. */
  readonly id: string;
  readonly name: string;
  /** Fetched when the request is made: platform URLs expire. */
  readonly url: string;
  readonly declaredKind: AttachmentKind;
  readonly declaredContentType?: string;
  readonly declaredBytes?: number;
}

export interface ChatMessage {
  readonly id: string;
  readonly author: Author;
  /** The message text with mentions of the bot already removed by the adapter. */
  readonly text: string;
  readonly attachments: readonly Attachment[];
  /** The message this one replies to or quotes, when the platform says. */
  readonly replyToId?: string;
  /** Milliseconds since the epoch. */
  readonly sentAt: number;
}

export interface Channel {
  readonly id: string;
  /** Discord's age-restricted flag; Slack channels are never marked. */
  readonly nsfw: boolean;
}

export interface Conversation {
  readonly platform: Platform;
  /** Discord guild or Slack team; absent in direct messages. */
  readonly serverId?: string;
  readonly channel: Channel;
  /** Oldest first; the newest message from a person is the request. */
  readonly messages: readonly ChatMessage[];
}

/** What the person asked emu-bot to do with the conversation. */
export type Intent =
  /** Emu-I answers the newest message, with the thread before it as earlier turns. */
  | 'answer'
  /** Emu-I describes the images or video of the newest message, with the reference's caption prompt. */
  | 'describe'
  /** The pretrained model continues the thread's interleaved images and text (in-context learning). */
  | 'continue'
  /** The pretrained model draws from the newest message: text, 2 to 4 images to blend, or both. */
  | 'imagine';

/** The newest message written by a person: the request. */
export function requestMessage(conversation: Conversation): ChatMessage | undefined {
  return conversation.messages.findLast((message) => message.author.role === 'person');
}

/** `describe` when the request holds attachments and no text (someone posts a picture at the bot). */
export function defaultIntent(conversation: Conversation): Intent {
  const request = requestMessage(conversation);
  const onlyAttachments =
    request !== undefined && request.text.trim() === '' && request.attachments.length > 0;
  return onlyAttachments ? 'describe' : 'answer';
}
