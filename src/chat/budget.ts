import { EmuBotError } from '../core/index.js';
import type { DecodedMedia } from '../media/index.js';
import type { PromptMessage } from './prompt-message.js';

/** Counts the positions a prompt takes: its token ids with BOS (the engine's tokenizer). */
export interface TokenCounter {
  countTokens(text: string): number;
}

/** What the context budget left out, so the reply can say so. */
export interface Omission {
  /** Whole messages, oldest first. */
  readonly messages: number;
  /** Still images and videos (animations included) inside the messages left out or cut from the request. */
  readonly images: number;
  readonly videos: number;
  /** Words cut from the start of the request's text. */
  readonly truncatedWords: number;
}

export const nothingOmitted: Omission = Object.freeze({
  messages: 0,
  images: 0,
  videos: 0,
  truncatedWords: 0,
});

export interface BudgetOptions {
  /** Emu's positions: 2048. */
  readonly contextLength: number;
  /** Positions left for the answer: maxNewTokens, or 32 for an image. */
  readonly reserved: number;
  readonly counter: TokenCounter;
  /** Messages left out only after every other earlier message (the one the request replies to). */
  readonly pinnedIds?: ReadonlySet<string>;
  /** Whether a thread may not start with the bot (Emu-I's turns start with the user). */
  readonly dropLeadingAssistant: boolean;
  /** The request keeps this many of its last words before any of its own media is left out. */
  readonly minimumKeptWords?: number;
  /** Images (a video counts its frames) one request may carry, as the queue's payload cap says. */
  readonly maxImages?: number;
}

export interface FittedPrompt {
  readonly messages: readonly PromptMessage[];
  readonly prompt: string;
  readonly omission: Omission;
}

/**
 * Fits messages (oldest first, the request last) into the context: leaves out earlier messages
 * whole, oldest first and the pinned ones last; then, if the request alone is still too long, its
 * oldest media (an image or video is never cut) until it fits with its last words, and finally the
 * start of its text. `render` builds the prompt from the messages kept; it must add the system
 * message and template, so every check counts the whole prompt.
 */
export function fitToBudget(
  messages: readonly PromptMessage[],
  render: (kept: readonly PromptMessage[]) => string,
  options: BudgetOptions,
): FittedPrompt {
  const request = messages.at(-1);
  if (request === undefined)
    throw new EmuBotError('INTERNAL', 'fitToBudget needs at least the request message');
  const maxImages = options.maxImages ?? Number.POSITIVE_INFINITY;
  const fits = (kept: readonly PromptMessage[]) =>
    frameCount(kept) <= maxImages &&
    options.counter.countTokens(render(kept)) + options.reserved <= options.contextLength;

  const earlier = messages.slice(0, -1);
  const pinned = options.pinnedIds ?? new Set<string>();
  const dropOrder = [...earlier.filter((m) => !pinned.has(m.id)), ...earlier.filter((m) => pinned.has(m.id))];
  const dropped = new Set<PromptMessage>();
  const keptEarlier = () => {
    const kept = earlier.filter((message) => !dropped.has(message));
    if (!options.dropLeadingAssistant) return kept;
    const firstUser = kept.findIndex((message) => message.role === 'user');
    for (const message of firstUser === -1 ? kept : kept.slice(0, firstUser)) dropped.add(message);
    return firstUser === -1 ? [] : kept.slice(firstUser);
  };

  for (const next of [...dropOrder, undefined]) {
    const kept = [...keptEarlier(), request];
    if (fits(kept)) return { messages: kept, prompt: render(kept), omission: omitted([...dropped], [], 0) };
    if (next !== undefined) dropped.add(next);
  }
  const kept = fitRequest(request, fits, options.minimumKeptWords ?? 64);
  const cutMedia = request.media.slice(0, request.media.length - kept.message.media.length);
  return {
    messages: [kept.message],
    prompt: render([kept.message]),
    omission: omitted([...dropped], cutMedia, kept.truncatedWords),
  };
}

function fitRequest(
  request: PromptMessage,
  fits: (kept: readonly PromptMessage[]) => boolean,
  minimumKeptWords: number,
): { message: PromptMessage; truncatedWords: number } {
  const wordStarts = [...request.text.matchAll(/\S+/g)].map((match) => match.index);
  const withTail = (media: readonly DecodedMedia[], firstWord: number): PromptMessage => ({
    ...request,
    media,
    text: request.text.slice(wordStarts[firstWord] ?? request.text.length),
  });
  const fitsWith = (media: readonly DecodedMedia[], firstWord: number) => fits([withTail(media, firstWord)]);

  let media = request.media;
  const lastWords = Math.max(0, wordStarts.length - minimumKeptWords);
  while (media.length > 0 && !fitsWith(media, lastWords)) media = media.slice(1);
  const noWords = wordStarts.length;
  if ((media.length === 0 && noWords === 0) || !fitsWith(media, media.length === 0 ? noWords - 1 : noWords)) {
    throw new EmuBotError(
      'PROMPT_TOO_LONG',
      `the request message ${request.id} does not fit in the context even alone, with its media and text cut`,
    );
  }
  // The fewest words cut: `low` is known not to fit (or is -1), `high` is known to fit.
  let low = -1;
  let high = media.length === 0 ? noWords - 1 : noWords;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fitsWith(media, middle)) high = middle;
    else low = middle;
  }
  return { message: withTail(media, high), truncatedWords: high };
}

function frameCount(messages: readonly PromptMessage[]): number {
  return messages.reduce(
    (sum, message) => sum + message.media.reduce((count, item) => count + item.frames.length, 0),
    0,
  );
}

function omitted(
  dropped: readonly PromptMessage[],
  cutMedia: readonly DecodedMedia[],
  truncatedWords: number,
): Omission {
  const media = [...dropped.flatMap((message) => message.media), ...cutMedia];
  return {
    messages: dropped.length,
    images: media.filter((item) => item.kind === 'image').length,
    videos: media.filter((item) => item.kind !== 'image').length,
    truncatedWords,
  };
}
