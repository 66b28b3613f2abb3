import type { EmuBotError } from '../core/index.js';
import type { RgbImage } from '../engine/index.js';
import type { DecodedMedia, MediaOutcome } from '../media/index.js';
import type { Attachment, Conversation } from './conversation.js';
import { escapeText, imagePlaceholder } from './special-tokens.js';

/** An attachment that could not be used; the rest of the conversation is answered without it. */
export interface AttachmentProblem {
  readonly attachment: Attachment;
  readonly messageId: string;
  readonly error: EmuBotError;
}

/** One chat message as prompt material: its usable media (in posted order), then its text. */
export interface PromptMessage {
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly media: readonly DecodedMedia[];
  /** Escaped and trimmed. */
  readonly text: string;
}

export interface PromptMaterial {
  readonly messages: readonly PromptMessage[];
  readonly problems: readonly AttachmentProblem[];
}

/**
 * Turns the conversation into prompt material: people's and the bot's text escaped, decoded
 * media attached in the order posted, failed or missing attachments listed as problems.
 * Attachments of kind `other` are ignored (a PDF next to a photo is not an error).
 */
export function toPromptMaterial(
  conversation: Conversation,
  outcomes: ReadonlyMap<string, MediaOutcome>,
): PromptMaterial {
  const problems: AttachmentProblem[] = [];
  const messages = conversation.messages.map((message): PromptMessage => {
    const media: DecodedMedia[] = [];
    for (const attachment of message.attachments) {
      const outcome = outcomes.get(attachment.id);
      if (outcome === undefined) continue;
      if (outcome.ok) media.push(outcome.media);
      else problems.push({ attachment, messageId: message.id, error: outcome.error });
    }
    return {
      id: message.id,
      role: message.author.role === 'bot' ? 'assistant' : 'user',
      media,
      text: escapeText(message.text.trim()),
    };
  });
  return { messages, problems };
}

/** A message's media as placeholders (one per frame, so a video is 8), then its text. */
export function renderMessage(message: PromptMessage): string {
  const placeholders = message.media.map((media) => imagePlaceholder.repeat(media.frames.length)).join('');
  return placeholders + message.text;
}

/** The frames of the messages' media, in placeholder order. */
export function collectImages(messages: readonly PromptMessage[]): RgbImage[] {
  return messages.flatMap((message) => message.media.flatMap((media) => media.frames));
}

export function isEmptyMessage(message: PromptMessage): boolean {
  return message.media.length === 0 && message.text === '';
}
