import type { PromptMessage } from './prompt-message.js';
import { renderMessage } from './prompt-message.js';
import { imagePlaceholder } from './special-tokens.js';
import {
  captionAnswerPrefix,
  captionQuestion,
  type InstructTurn,
  imageSystemMessage,
  instructPrompt,
  multiImageSystemMessage,
  videoSystemMessage,
} from './templates.js';

/** Messages of one turn are separate lines; the tokenizer drops the newline next to an image anyway. */
const messageSeparator = '\n';

/**
 * The reference's system message for what the prompt holds: one still image, one video (or
 * animation), or else (several, or none) the empty one of its interleaved example.
 */
export function systemMessageFor(messages: readonly PromptMessage[]): string {
  const media = messages.flatMap((message) => message.media);
  const only = media.length === 1 ? media[0] : undefined;
  if (only?.kind === 'image') return imageSystemMessage;
  if (only !== undefined) return videoSystemMessage;
  return multiImageSystemMessage;
}

/** Consecutive messages of one role become one turn. */
export function toTurns(messages: readonly PromptMessage[]): InstructTurn[] {
  const turns: { role: 'user' | 'assistant'; parts: string[] }[] = [];
  for (const message of messages) {
    const last = turns.at(-1);
    if (last?.role === message.role) last.parts.push(renderMessage(message));
    else turns.push({ role: message.role, parts: [renderMessage(message)] });
  }
  return turns.map((turn) => ({ role: turn.role, content: turn.parts.join(messageSeparator) }));
}

/** Emu-I answering a thread: earlier bot replies are assistant turns. */
export function renderAnswerPrompt(messages: readonly PromptMessage[]): string {
  return instructPrompt(systemMessageFor(messages), toTurns(messages));
}

/** The reference's caption prompt over the request's media; the reply starts with the prefix. */
export function renderDescribePrompt(messages: readonly PromptMessage[]): string {
  const placeholders = messages.map((message) => renderMessage({ ...message, text: '' })).join('');
  return instructPrompt(
    systemMessageFor(messages),
    [{ role: 'user', content: placeholders + captionQuestion }],
    captionAnswerPrefix,
  );
}

/** The pretrained model continuing the thread as one interleaved sequence (in-context learning). */
export function renderContinuePrompt(messages: readonly PromptMessage[]): string {
  return messages.map(renderMessage).join(messageSeparator);
}

const ordinals = ['first', 'second', 'third', 'fourth'] as const;

/** How an image-generation prompt was made; the reference's guidance differs between them. */
export type DrawingKind = 'text-to-image' | 'blend' | 'in-context';

/**
 * The pretrained model's image-generation prompt (Emu1/image_inference.py); the engine appends
 * `[IMG]`. Text alone: the text. Images alone: their placeholders back to back (blending).
 * Both: the reference's in-context form, "This is the first image: {image}...{text}: ".
 */
export function renderImaginePrompt(imageCount: number, text: string): { prompt: string; kind: DrawingKind } {
  if (imageCount === 0) return { prompt: text, kind: 'text-to-image' };
  if (text === '') return { prompt: imagePlaceholder.repeat(imageCount), kind: 'blend' };
  const images = ordinals
    .slice(0, imageCount)
    .map((ordinal) => `This is the ${ordinal} image: ${imagePlaceholder}`)
    .join('');
  return { prompt: `${images}${text.replace(/[\s:]+$/u, '')}: `, kind: 'in-context' };
}

export const maximumImagesToDraw = ordinals.length;
