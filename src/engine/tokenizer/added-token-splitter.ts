import { pythonLeftStrip, pythonRightStrip } from './python-whitespace.js';

export type TextPiece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'token'; readonly id: number };

/**
 * Splits text on the no-split tokens as transformers 4.29's slow tokenizer does: text touching a
 * token loses its whitespace on that side (Python's set, since Emu registered every token as a
 * plain string), and pieces left empty are dropped.
 */
export class AddedTokenSplitter {
  readonly #tokens: ReadonlyMap<string, number>;
  readonly #pattern: RegExp;

  constructor(tokens: ReadonlyMap<string, number>) {
    this.#tokens = tokens;
    // Longest first, so that the leftmost match is also the longest, as with 4.29's trie.
    const alternatives = [...tokens.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#pattern = new RegExp(`(${alternatives.join('|')})`);
  }

  split(text: string): TextPiece[] {
    // With one capture group, String#split returns text at even and tokens at odd indices.
    const parts = text.split(this.#pattern);
    const pieces: TextPiece[] = [];
    for (let index = 0; index < parts.length; index += 1) {
      const part = parts[index] ?? '';
      const id = index % 2 === 1 ? this.#tokens.get(part) : undefined;
      if (id !== undefined) {
        pieces.push({ kind: 'token', id });
        continue;
      }
      let stripped = part;
      if (index > 0) stripped = pythonLeftStrip(stripped);
      if (index < parts.length - 1) stripped = pythonRightStrip(stripped);
      if (stripped.length > 0) pieces.push({ kind: 'text', text: stripped });
    }
    return pieces;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
