import { describe, expect, it } from 'vitest';
import { Moderator } from '../../src/chat/index.js';
import { isEmuBotError } from '../../src/core/index.js';

const moderator = new Moderator({
  blockedWords: ['forbidden', 'Bad Phrase'],
  blockedPatterns: ['\\bkill\\s+all\\b'],
  generatedImages: 'nsfw-channels',
  channelImageRules: { art: 'everywhere', quiet: 'never' },
});

function code(action: () => void): string {
  try {
    action();
    return 'ok';
  } catch (error) {
    return isEmuBotError(error) ? error.code : 'other';
  }
}

describe('Moderator', () => {
  it('blocks listed words as whole words in any case or width, and listed patterns', () => {
    expect(code(() => moderator.checkText('this is FORBIDDEN.'))).toBe('PROMPT_BLOCKED');
    expect(code(() => moderator.checkText('ｆｏｒｂｉｄｄｅｎ'))).toBe('PROMPT_BLOCKED');
    expect(code(() => moderator.checkText('a bad phrase here'))).toBe('PROMPT_BLOCKED');
    expect(code(() => moderator.checkText('Kill   all humans'))).toBe('PROMPT_BLOCKED');
    expect(code(() => moderator.checkText('unforbiddenness is fine'))).toBe('ok');
    expect(code(() => moderator.checkText('skill allocation'))).toBe('ok');
  });

  it('names the rule in the log message and stays polite to the person', () => {
    try {
      moderator.checkText('forbidden');
    } catch (error) {
      expect((error as Error).message).toContain('"forbidden"');
      expect((error as { userMessage: string }).userMessage).not.toContain('forbidden');
    }
  });

  it('allows drawing by channel rule: NSFW channels by default, per-channel overrides', () => {
    expect(code(() => moderator.checkImageGeneration({ id: 'general', nsfw: false }))).toBe(
      'IMAGE_GENERATION_NOT_ALLOWED',
    );
    expect(code(() => moderator.checkImageGeneration({ id: 'general', nsfw: true }))).toBe('ok');
    expect(code(() => moderator.checkImageGeneration({ id: 'art', nsfw: false }))).toBe('ok');
    expect(code(() => moderator.checkImageGeneration({ id: 'quiet', nsfw: true }))).toBe(
      'IMAGE_GENERATION_NOT_ALLOWED',
    );
  });
});
