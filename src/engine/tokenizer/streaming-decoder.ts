import { EmuBotError } from '../../core/index.js';
import { ByteFallbackAssembler } from './byte-fallback-assembler.js';

const metaspace = '\u2581';
const bytePiecePattern = /^<0x([0-9A-F]{2})>$/;

const pieceKinds = { text: 0, textAfterMetaspace: 1, byte: 2, special: 3 } as const;
export type PieceKind = (typeof pieceKinds)[keyof typeof pieceKinds];

/**
 * What decoding needs to know of each id, worked out once per tokenizer: its kind, its text with
 * SentencePiece's `▁` turned into a space, its byte for byte-fallback pieces.
 */
export class DecodingTable {
  readonly #kinds: Uint8Array;
  readonly #texts: readonly string[];
  readonly #bytes: Uint8Array;

  constructor(pieces: readonly (string | undefined)[], specialIds: ReadonlySet<number>) {
    this.#kinds = new Uint8Array(pieces.length);
    this.#bytes = new Uint8Array(pieces.length);
    const texts: string[] = [];
    for (const [id, piece = ''] of pieces.entries()) {
      const byte = bytePiecePattern.exec(piece)?.[1];
      texts.push(specialIds.has(id) ? piece : piece.replaceAll(metaspace, ' '));
      if (specialIds.has(id)) this.#kinds[id] = pieceKinds.special;
      else if (byte !== undefined) {
        this.#kinds[id] = pieceKinds.byte;
        this.#bytes[id] = Number.parseInt(byte, 16);
      } else if (piece.startsWith(metaspace)) this.#kinds[id] = pieceKinds.textAfterMetaspace;
    }
    this.#texts = texts;
  }

  get size(): number {
    return this.#kinds.length;
  }

  kind(id: number): PieceKind {
    if (!Number.isInteger(id) || id < 0 || id >= this.#kinds.length) {
      throw new EmuBotError('INTERNAL', `token id ${id} is outside the vocabulary of ${this.#kinds.length}`);
    }
    return (this.#kinds[id] ?? pieceKinds.special) as PieceKind;
  }

  text(id: number): string {
    return this.#texts[id] ?? '';
  }

  byte(id: number): number {
    return this.#bytes[id] ?? 0;
  }
}

export interface StreamingDecoderOptions {
  /** Drop special ids (BOS, EOS, `[IMG]`, ...), as the reference does; otherwise write their text. */
  readonly skipSpecialTokens?: boolean;
}

/**
 * Decodes ids one at a time into text deltas whose concatenation, after `flush`, equals
 * SentencePiece's decode of the whole list: the first piece loses its leading `▁` (the dummy
 * prefix) and no other does, so the space after a newline survives; byte-fallback pieces are held
 * until they make a whole character, so no delta ends in half of one.
 */
export class StreamingDecoder {
  readonly #table: DecodingTable;
  readonly #skipSpecialTokens: boolean;
  readonly #bytes = new ByteFallbackAssembler();
  #atStart = true;

  constructor(table: DecodingTable, options: StreamingDecoderOptions = {}) {
    this.#table = table;
    this.#skipSpecialTokens = options.skipSpecialTokens ?? true;
  }

  /** The text this id completes; often empty while bytes of a character are still arriving. */
  push(id: number): string {
    const kind = this.#table.kind(id);
    if (kind === pieceKinds.special) {
      // Skipped ids are removed before SentencePiece sees the list, so bytes around them still join.
      return this.#skipSpecialTokens ? '' : this.#bytes.flush() + this.#table.text(id);
    }
    const atStart = this.#atStart;
    this.#atStart = false;
    if (kind === pieceKinds.byte) return this.#bytes.push(this.#table.byte(id));
    const text = this.#table.text(id);
    const surface = atStart && kind === pieceKinds.textAfterMetaspace ? text.slice(1) : text;
    return this.#bytes.flush() + surface;
  }

  /** Ends the stream: bytes that never became a character turn into U+FFFD, one per byte. */
  flush(): string {
    return this.#bytes.flush();
  }
}

export function decodeIds(
  table: DecodingTable,
  ids: Iterable<number>,
  options: StreamingDecoderOptions = {},
): string {
  const decoder = new StreamingDecoder(table, options);
  let text = '';
  for (const id of ids) text += decoder.push(id);
  return text + decoder.flush();
}
