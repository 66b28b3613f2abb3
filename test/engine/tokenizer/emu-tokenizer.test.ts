import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEmuBotError } from '../../../src/core/index.js';
import { EmuTokenizer } from '../../../src/engine/tokenizer/index.js';

const fixtures = join(import.meta.dirname, '../../fixtures/tokenizer');

interface EncodeGolden {
  readonly name: string;
  readonly text: string;
  readonly pretrain: number[];
  readonly instruct: number[];
}
interface DecodeGolden {
  readonly name: string;
  readonly ids: number[];
  readonly text: string;
  readonly answer: string;
}
const goldens = JSON.parse(readFileSync(join(fixtures, 'goldens.json'), 'utf8')) as {
  readonly encode: EncodeGolden[];
  readonly decode: DecodeGolden[];
};

const variants = ['pretrain', 'instruct'] as const;
const tokenizers = {
  pretrain: await EmuTokenizer.fromFile(
    join(import.meta.dirname, '../../fixtures/bundles/tiny-pretrain/tokenizer.json'),
  ),
  instruct: await EmuTokenizer.fromFile(
    join(import.meta.dirname, '../../fixtures/bundles/tiny-instruct/tokenizer.json'),
  ),
};

/** The first differing position with a few ids of context, so a failure says where it went wrong. */
function describeMismatch(actual: readonly number[], expected: readonly number[]): string {
  let index = 0;
  while (index < actual.length && actual[index] === expected[index]) index += 1;
  const around = (ids: readonly number[]) => JSON.stringify(ids.slice(Math.max(0, index - 3), index + 4));
  return `first difference at index ${index}: got ${around(actual)}, expected ${around(expected)} (lengths ${actual.length} and ${expected.length})`;
}

describe('EmuTokenizer.encode', () => {
  for (const variant of variants) {
    it(`matches the slow tokenizer on every golden text (${variant})`, () => {
      const mismatches = goldens.encode.flatMap((golden) => {
        const actual = tokenizers[variant].encode(golden.text);
        const expected = golden[variant];
        const same = actual.length === expected.length && actual.every((id, index) => id === expected[index]);
        return same
          ? []
          : [`${golden.name} (${JSON.stringify(golden.text)}): ${describeMismatch(actual, expected)}`];
      });
      expect(mismatches).toEqual([]);
    });
  }

  it('covers enough cases to mean something', () => {
    expect(goldens.encode.length).toBeGreaterThan(40);
  });

  it('leaves BOS out on request', () => {
    expect(tokenizers.instruct.encode('[IMG]', { addBos: false })).toEqual([32001]);
    expect(tokenizers.instruct.encode('', { addBos: false })).toEqual([]);
  });
});

describe('EmuTokenizer token ids', () => {
  it("knows Emu's added tokens per variant", () => {
    const instruct = tokenizers.instruct;
    expect([instruct.bosTokenId, instruct.eosTokenId]).toEqual([1, 2]);
    expect(
      ['[PAD]', '[IMG]', '[/IMG]', '<image>', '[USER]', '[ASSISTANT]'].map((t) => instruct.tokenId(t)),
    ).toEqual([32000, 32001, 32002, 32003, 32004, 32005]);
    expect(instruct.vocabularySize).toBe(32006);
    expect(tokenizers.pretrain.vocabularySize).toBe(32004);
    expect(tokenizers.pretrain.hasToken('[USER]')).toBe(false);
    expect(() => tokenizers.pretrain.tokenId('[USER]')).toThrow(/no added token "\[USER\]"/);
  });
});

describe('EmuTokenizer.fromJson', () => {
  const valid = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../fixtures/bundles/tiny-pretrain/tokenizer.json'), 'utf8'),
  ) as Record<string, unknown>;

  it('names the file and field a bundle gets wrong', () => {
    const broken = { ...valid, model: { ...(valid['model'] as object), byte_fallback: false } };
    const error = (() => {
      try {
        EmuTokenizer.fromJson(broken, 'bundle/tokenizer.json');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isEmuBotError(error, 'BUNDLE_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/^bundle\/tokenizer\.json: model\.byte_fallback/);
  });

  it('requires BOS and EOS among the added tokens', () => {
    const withoutEos = {
      ...valid,
      added_tokens: (valid['added_tokens'] as { content: string }[]).filter((t) => t.content !== '</s>'),
    };
    expect(() => EmuTokenizer.fromJson(withoutEos)).toThrow(/added_tokens has no "<\/s>"/);
  });

  it('reports an unreadable file as BUNDLE_INVALID', async () => {
    await expect(EmuTokenizer.fromFile(join(fixtures, 'missing.json'))).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
    });
  });
});
