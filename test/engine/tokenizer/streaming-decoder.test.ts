import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmuTokenizer, pythonStrip } from '../../../src/engine/tokenizer/index.js';

const fixtures = join(import.meta.dirname, '../../fixtures/tokenizer');
const goldens = JSON.parse(readFileSync(join(fixtures, 'goldens.json'), 'utf8')) as {
  readonly decode: {
    readonly name: string;
    readonly ids: number[];
    readonly text: string;
    readonly answer: string;
  }[];
};
const tokenizer = await EmuTokenizer.fromFile(
  join(import.meta.dirname, '../../fixtures/bundles/tiny-instruct/tokenizer.json'),
);

/** A UTF-16 surrogate without its partner: half of a character outside the Basic Multilingual Plane. */
function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

describe('EmuTokenizer.decode', () => {
  it('equals SentencePiece on every golden id list', () => {
    const mismatches = goldens.decode
      .filter((golden) => tokenizer.decode(golden.ids) !== golden.text)
      .map(
        (golden) =>
          `${golden.name}: got ${JSON.stringify(tokenizer.decode(golden.ids))}, expected ${JSON.stringify(golden.text)}`,
      );
    expect(mismatches).toEqual([]);
  });

  it("gives the reference's answer after Python's strip", () => {
    const mismatches = goldens.decode.filter(
      (golden) => pythonStrip(tokenizer.decode(golden.ids)) !== golden.answer,
    );
    expect(mismatches.map((golden) => golden.name)).toEqual([]);
  });

  it('writes special tokens when asked not to skip them', () => {
    expect(tokenizer.decode([1, 15043, 32001, 3186], { skipSpecialTokens: false })).toBe(
      '<s>Hello[IMG] world',
    );
  });

  it('refuses ids outside the vocabulary', () => {
    expect(() => tokenizer.decode([32006])).toThrow(/outside the vocabulary of 32006/);
  });
});

describe('StreamingDecoder', () => {
  it('streams, one id at a time, exactly the text of a whole decode', () => {
    const mismatches = goldens.decode.flatMap((golden) => {
      const decoder = tokenizer.streamingDecoder();
      const deltas = golden.ids.map((id) => decoder.push(id));
      deltas.push(decoder.flush());
      return deltas.join('') === golden.text ? [] : [golden.name];
    });
    expect(mismatches).toEqual([]);
  });

  it('never shows half a character or a replacement that later bytes would have avoided', () => {
    const failures: string[] = [];
    for (const golden of goldens.decode) {
      const decoder = tokenizer.streamingDecoder();
      let shown = '';
      for (const id of golden.ids) {
        shown += decoder.push(id);
        if (!golden.text.startsWith(shown) || hasLoneSurrogate(shown))
          failures.push(`${golden.name}: ${JSON.stringify(shown)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('holds the bytes of a character until the last one arrives', () => {
    const decoder = tokenizer.streamingDecoder();
    const crab = [0xf0, 0x9f, 0xa6, 0x80].map((byte) => byte + 3); // byte pieces start at id 3
    expect(crab.map((id) => decoder.push(id))).toEqual(['', '', '', '🦀']);
  });

  it('keeps the space after a newline and drops only the very first dummy prefix', () => {
    const decoder = tokenizer.streamingDecoder();
    // ▁Hello, <0x0A>, ▁world, ▁
    expect([15043, 13, 3186, 29871].map((id) => decoder.push(id))).toEqual(['Hello', '\n', ' world', ' ']);
  });

  it('turns bytes left over at the end into one U+FFFD each', () => {
    const decoder = tokenizer.streamingDecoder();
    expect(decoder.push(0xe2 + 3)).toBe('');
    expect(decoder.push(0x82 + 3)).toBe('');
    expect(decoder.flush()).toBe('\uFFFD\uFFFD');
  });
});
