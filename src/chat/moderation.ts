import { EmuBotError } from '../core/index.js';
import type { Channel } from './conversation.js';

export type ImageRule = 'everywhere' | 'nsfw-channels' | 'never';

export interface ModerationRules {
  readonly blockedWords: readonly string[];
  /** Regular expressions, matched case-insensitively. */
  readonly blockedPatterns: readonly string[];
  readonly generatedImages: ImageRule;
  /** Channel id -> rule, overriding `generatedImages` there. */
  readonly channelImageRules: Readonly<Record<string, ImageRule>>;
}

/**
 * Checks requests against the configured block lists and per-channel image rules, before anything
 * is queued. Refusals are PROMPT_BLOCKED or IMAGE_GENERATION_NOT_ALLOWED errors whose log message
 * names the rule and whose message for people stays polite and general.
 */
export class Moderator {
  readonly #words: readonly { word: string; pattern: RegExp }[];
  readonly #patterns: readonly RegExp[];
  readonly #rules: ModerationRules;

  constructor(rules: ModerationRules) {
    this.#rules = rules;
    this.#words = rules.blockedWords.map((word) => ({
      word,
      pattern: new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(normalise(word))}(?![\\p{L}\\p{N}])`, 'u'),
    }));
    this.#patterns = rules.blockedPatterns.map((pattern) => new RegExp(pattern, 'iu'));
  }

  /**
   * Refuses text with a blocked word (a whole word, any case, after Unicode compatibility
   * folding, so full-width letters do not slip through) or a blocked pattern. Run before queueing.
   */
  checkText(text: string): void {
    const folded = normalise(text);
    const word = this.#words.find((entry) => entry.pattern.test(folded));
    if (word !== undefined) throw blocked(`the request contains the blocked word "${word.word}"`);
    const pattern = this.#patterns.find((entry) => entry.test(text) || entry.test(folded));
    if (pattern !== undefined) throw blocked(`the request matches the blocked pattern /${pattern.source}/`);
  }

  /** Refuses image generation where the channel's rule does not allow it. */
  checkImageGeneration(channel: Channel): void {
    const rule = this.#rules.channelImageRules[channel.id] ?? this.#rules.generatedImages;
    if (rule === 'everywhere' || (rule === 'nsfw-channels' && channel.nsfw)) return;
    throw new EmuBotError(
      'IMAGE_GENERATION_NOT_ALLOWED',
      `image generation refused in channel ${channel.id}: its rule is "${rule}"${channel.nsfw ? '' : ' and it is not marked NSFW'}`,
      {
        userMessage:
          rule === 'never'
            ? 'Drawing images is turned off in this channel.'
            : 'I can only draw images in channels marked as age-restricted (NSFW).',
      },
    );
  }
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function blocked(message: string): EmuBotError {
  return new EmuBotError('PROMPT_BLOCKED', message);
}
