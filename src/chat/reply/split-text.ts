/**
 * Splits a reply into messages of at most `limit` characters (UTF-16 units, the stricter count),
 * at paragraph breaks first, then sentence ends, then spaces. A fenced code block is never cut
 * open: it moves to the next message whole, and one longer than a message is split between
 * lines, each part closed and reopened with the same fence and language.
 */
export function splitText(text: string, limit: number): string[] {
  if (limit < 16) throw new RangeError(`a message limit of ${limit} leaves no room for a code fence`);
  const messages: string[] = [];
  let current = '';
  for (const { text: atom, separator } of atoms(text.trim(), limit)) {
    const joined = current === '' ? atom : current + separator + atom;
    if (joined.length <= limit) {
      current = joined;
    } else {
      if (current !== '') messages.push(current);
      current = atom;
    }
  }
  if (current !== '') messages.push(current);
  return messages;
}

interface Atom {
  readonly text: string;
  /** What joins it to the atom before it when both land in one message. */
  readonly separator: string;
}

const fence = /^(```|~~~)([^\n]*)\n([\s\S]*?)(?:^\1[ \t]*$|(?![\s\S]))/gm;

function atoms(text: string, limit: number): Atom[] {
  const result: Atom[] = [];
  let position = 0;
  for (const match of text.matchAll(fence)) {
    result.push(...proseAtoms(text.slice(position, match.index), limit));
    const [, marker = '```', language = '', body = ''] = match;
    result.push(...codeAtoms(marker, language, body.replace(/\n$/, ''), limit));
    position = match.index + match[0].length;
  }
  result.push(...proseAtoms(text.slice(position), limit));
  return result;
}

function proseAtoms(prose: string, limit: number): Atom[] {
  return prose
    .split(/\n[ \t]*\n+/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph !== '')
    .flatMap((paragraph) => {
      if (paragraph.length <= limit) return [{ text: paragraph, separator: '\n\n' }];
      return pieces(paragraph, /(?<=[.!?…])\s+/u, ' ', limit, (sentence) =>
        pieces(sentence, /\s+/u, ' ', limit, (word) => hardSplit(word, limit, '')),
      ).map((atom, index) => (index === 0 ? { ...atom, separator: '\n\n' } : atom));
    });
}

/** Splits at `boundary`; parts still too long go through `further`. */
function pieces(
  text: string,
  boundary: RegExp,
  separator: string,
  limit: number,
  further: (part: string) => Atom[],
) {
  return text
    .split(boundary)
    .filter((part) => part !== '')
    .flatMap((part) => (part.length <= limit ? [{ text: part, separator }] : further(part)));
}

function hardSplit(text: string, limit: number, separator: string): Atom[] {
  const characters = Array.from(text);
  const result: Atom[] = [];
  let current = '';
  for (const character of characters) {
    if (current.length + character.length > limit) {
      result.push({ text: current, separator });
      current = '';
    }
    current += character;
  }
  if (current !== '') result.push({ text: current, separator });
  return result;
}

function codeAtoms(marker: string, language: string, body: string, limit: number): Atom[] {
  const open = `${marker}${language}\n`;
  const close = `\n${marker}`;
  const whole = open + body + close;
  if (whole.length <= limit) return [{ text: whole, separator: '\n\n' }];
  const room = limit - open.length - close.length;
  const lines = body
    .split('\n')
    .flatMap((line) => (line.length <= room ? [line] : hardSplit(line, room, '').map((a) => a.text)));
  const parts: string[] = [];
  let current: string | undefined;
  for (const line of lines) {
    if (current !== undefined && current.length + 1 + line.length <= room) current += `\n${line}`;
    else {
      if (current !== undefined) parts.push(current);
      current = line;
    }
  }
  if (current !== undefined) parts.push(current);
  return parts.map((part) => ({ text: open + part + close, separator: '\n' }));
}
