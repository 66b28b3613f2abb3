const replacementCharacter = '\uFFFD';

/**
 * Turns SentencePiece byte-fallback pieces (`<0xE2>`, ...) back into text exactly as SentencePiece's
 * decoder does, one byte at a time: at each position one UTF-8 character is decoded if its bytes
 * are all there, well formed, not overlong, not a surrogate and at most U+10FFFF; otherwise that
 * one byte becomes U+FFFD and decoding restarts at the next byte. (This is not WHATWG's
 * TextDecoder, which replaces a whole broken sequence with one U+FFFD.)
 *
 * `push` holds back the bytes of a character that may still be completed, so a stream never shows
 * half a character; `flush` decides them, as the end of the byte run does in SentencePiece.
 */
export class ByteFallbackAssembler {
  readonly #pending: number[] = [];

  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  push(byte: number): string {
    this.#pending.push(byte);
    return this.#drain(false);
  }

  flush(): string {
    return this.#drain(true);
  }

  #drain(final: boolean): string {
    const pending = this.#pending;
    let text = '';
    while (pending.length > 0) {
      const lead = pending[0] ?? 0;
      const length = sequenceLength(lead);
      if (length === 0) {
        text += replacementCharacter;
        pending.shift();
        continue;
      }
      if (pending.length < length) {
        // Incomplete: wait for more bytes unless the run has ended or a byte already broke it.
        if (!final && pending.slice(1).every(isContinuationByte)) break;
        text += replacementCharacter;
        pending.shift();
        continue;
      }
      const codePoint = decodeCodePoint(pending, length);
      if (codePoint === undefined) {
        text += replacementCharacter;
        pending.shift();
      } else {
        text += String.fromCodePoint(codePoint);
        pending.splice(0, length);
      }
    }
    return text;
  }
}

/** SentencePiece's reading of a lead byte: 1 to 4 bytes, or 0 for a byte no character starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 0;
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

const smallestCodePoint = [0, 0, 0x80, 0x800, 0x10000];
const leadBits = [0, 0x7f, 0x1f, 0x0f, 0x07];

function decodeCodePoint(bytes: readonly number[], length: number): number | undefined {
  let codePoint = (bytes[0] ?? 0) & (leadBits[length] ?? 0);
  for (let index = 1; index < length; index += 1) {
    const byte = bytes[index] ?? 0;
    if (!isContinuationByte(byte)) return undefined;
    codePoint = (codePoint << 6) | (byte & 0x3f);
  }
  const valid =
    codePoint >= (smallestCodePoint[length] ?? 0) &&
    (codePoint < 0xd800 || (codePoint >= 0xe000 && codePoint <= 0x10ffff));
  return valid ? codePoint : undefined;
}
