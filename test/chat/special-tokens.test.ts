import { describe, expect, it } from 'vitest';
import { escapeText, specialTokenStrings } from '../../src/chat/index.js';
import { fixtureTokenizer } from './thread.js';

describe('escapeText', () => {
  it('breaks every special-token string with a space after its opening bracket', () => {
    expect(escapeText('look: <image> [IMG]x[/IMG] [USER] [ASSISTANT] [PAD] <s> </s> <unk>')).toBe(
      'look: < image> [ IMG]x[ /IMG] [ USER] [ ASSISTANT] [ PAD] < s> < /s> < unk>',
    );
  });

  it('leaves near misses alone, as the tokenizer does', () => {
    expect(escapeText('[img] <Image> [IMG [/IMG ] <image')).toBe('[img] <Image> [IMG [/IMG ] <image');
  });

  it('leaves no special token for the tokenizer to find, however the strings nest', async () => {
    const tokenizer = await fixtureTokenizer('instruct');
    const specialIds = new Set(specialTokenStrings.map((token) => tokenizer.tokenId(token)));
    const nasty = `<<image>image> [[IMG]IMG]] ${specialTokenStrings.join('')} ${specialTokenStrings.join(' ')}<`;
    const ids = tokenizer.encode(escapeText(nasty), { addBos: false });
    expect(ids.filter((id) => specialIds.has(id))).toEqual([]);
    expect(tokenizer.encode(nasty, { addBos: false }).some((id) => specialIds.has(id))).toBe(true);
  });
});
