import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { z } from 'zod';
import { EmuBotError } from '../../core/index.js';
import { AddedTokenSplitter } from './added-token-splitter.js';
import {
  DecodingTable,
  decodeIds,
  StreamingDecoder,
  type StreamingDecoderOptions,
} from './streaming-decoder.js';

export interface EncodeOptions {
  /** Prepend BOS (id 1), as the reference does; default true. */
  readonly addBos?: boolean;
}

export type DecodeOptions = StreamingDecoderOptions;

/** The parts of tokenizer.json this class relies on; the library reads the rest. */
const tokenizerJsonSchema = z.object({
  model: z.object({
    type: z.literal('BPE'),
    byte_fallback: z.literal(true),
    vocab: z.record(z.string(), z.number().int().nonnegative()),
  }),
  added_tokens: z.array(
    z.object({ id: z.number().int().nonnegative(), content: z.string(), special: z.boolean() }),
  ),
});

const bosToken = '<s>';
const eosToken = '</s>';

/**
 * Emu's tokenizer: transformers 4.29's slow LlamaTokenizer with Emu's added tokens, rebuilt on a
 * bundle's tokenizer.json. Encoding splits on the added tokens (and `<s>`, `</s>`, `<unk>`), strips
 * the whitespace touching them with Python's whitespace set, and encodes every remaining piece on
 * its own, so each gets its own dummy-prefix space (`[/IMG]There` gives `▁There`); a plain encode
 * of the whole string by the library would not. Decoding follows SentencePiece (see
 * StreamingDecoder), not the library's decoder, which differs on broken byte sequences.
 */
export class EmuTokenizer {
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly #library: Tokenizer;
  readonly #splitter: AddedTokenSplitter;
  readonly #addedTokens: ReadonlyMap<string, number>;
  readonly #decodingTable: DecodingTable;

  private constructor(library: Tokenizer, addedTokens: ReadonlyMap<string, number>, specialIds: Set<number>) {
    this.#library = library;
    this.#addedTokens = addedTokens;
    this.#splitter = new AddedTokenSplitter(addedTokens);
    const vocabulary = library.get_vocab(true);
    const pieces: string[] = [];
    for (const [piece, id] of vocabulary) pieces[id] = piece;
    this.#decodingTable = new DecodingTable(pieces, specialIds);
    this.bosTokenId = this.tokenId(bosToken);
    this.eosTokenId = this.tokenId(eosToken);
  }

  /** Loads a bundle's tokenizer.json; BUNDLE_INVALID names the file when it cannot be used. */
  static async fromFile(path: string): Promise<EmuTokenizer> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new EmuBotError('BUNDLE_INVALID', `${path}: cannot read the tokenizer as JSON`, { cause: error });
    }
    return EmuTokenizer.fromJson(parsed, path);
  }

  /** `source` names the file in error messages. */
  static fromJson(json: unknown, source = 'tokenizer.json'): EmuTokenizer {
    const checked = tokenizerJsonSchema.safeParse(json);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue?.path.join('.') || '(top level)';
      throw new EmuBotError('BUNDLE_INVALID', `${source}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    const addedTokens = new Map(checked.data.added_tokens.map((token) => [token.content, token.id] as const));
    for (const required of [bosToken, eosToken]) {
      if (!addedTokens.has(required)) {
        throw new EmuBotError('BUNDLE_INVALID', `${source}: added_tokens has no "${required}"`);
      }
    }
    const specialIds = new Set(
      checked.data.added_tokens.filter((token) => token.special).map((token) => token.id),
    );
    let library: Tokenizer;
    try {
      library = new Tokenizer(json as object, {});
    } catch (error) {
      throw new EmuBotError('BUNDLE_INVALID', `${source}: the tokenizer library rejected it`, {
        cause: error,
      });
    }
    return new EmuTokenizer(library, addedTokens, specialIds);
  }

  /** Ids of every entry in the vocabulary, added tokens included: the logits' expected width. */
  get vocabularySize(): number {
    return this.#decodingTable.size;
  }

  /** The id of an added token such as `[IMG]`, `<image>`, `[PAD]` or `</s>`. */
  tokenId(token: string): number {
    const id = this.#addedTokens.get(token);
    if (id === undefined) {
      throw new EmuBotError('BUNDLE_INVALID', `the tokenizer has no added token "${token}"`);
    }
    return id;
  }

  hasToken(token: string): boolean {
    return this.#addedTokens.has(token);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids = (options.addBos ?? true) ? [this.bosTokenId] : [];
    for (const piece of this.#splitter.split(text)) {
      if (piece.kind === 'token') ids.push(piece.id);
      else ids.push(...this.#library.encode(piece.text, { add_special_tokens: false }).ids);
    }
    return ids;
  }

  /** SentencePiece's decode of the ids; with special tokens skipped (the default) the reference's. */
  decode(ids: Iterable<number>, options: DecodeOptions = {}): string {
    return decodeIds(this.#decodingTable, ids, options);
  }

  /** A decoder for one stream of generated ids (see StreamingDecoder). */
  streamingDecoder(options: DecodeOptions = {}): StreamingDecoder {
    return new StreamingDecoder(this.#decodingTable, options);
  }
}
