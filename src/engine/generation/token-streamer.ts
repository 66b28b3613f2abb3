import { isPythonWhitespace, pythonLeftStrip, type StreamingDecoder } from '../tokenizer/index.js';

/** Receives tokens as a search commits to them: each token of greedy and sampling as it is chosen, beam search's best sequence at the end. */
export interface TokenStreamer {
  put(tokenId: number): void;
  /** No more tokens will come. */
  end(): void;
}

/**
 * Turns streamed tokens into text deltas whose concatenation is the reference's answer:
 * the decode of the new tokens with special tokens skipped, then Python's `strip()`. Leading
 * whitespace is never shown, and trailing whitespace is held until more text follows it.
 */
export class TextStreamer implements TokenStreamer {
  readonly #decoder: StreamingDecoder;
  readonly #onText: (delta: string) => void;
  #started = false;
  #heldWhitespace = '';

  constructor(decoder: StreamingDecoder, onText: (delta: string) => void) {
    this.#decoder = decoder;
    this.#onText = onText;
  }

  put(tokenId: number): void {
    this.#show(this.#decoder.push(tokenId));
  }

  end(): void {
    this.#show(this.#decoder.flush());
    this.#heldWhitespace = '';
  }

  #show(decoded: string): void {
    let text = decoded;
    if (!this.#started) {
      text = pythonLeftStrip(text);
      if (text.length === 0) return;
      this.#started = true;
    }
    let end = text.length;
    while (end > 0 && isPythonWhitespace(text.charCodeAt(end - 1))) end -= 1;
    if (end === 0) {
      this.#heldWhitespace += text;
      return;
    }
    const delta = this.#heldWhitespace + text.slice(0, end);
    this.#heldWhitespace = text.slice(end);
    this.#onText(delta);
  }
}
