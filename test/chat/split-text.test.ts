import { describe, expect, it } from 'vitest';
import { splitText } from '../../src/chat/index.js';

describe('splitText', () => {
  it('keeps a short reply whole', () => {
    expect(splitText('  Hello there.  ', 2000)).toEqual(['Hello there.']);
  });

  it('splits at paragraph breaks first', () => {
    const paragraph = (letter: string) => `${letter.repeat(30)}.`;
    expect(splitText([paragraph('a'), paragraph('b'), paragraph('c')].join('\n\n'), 70)).toEqual([
      `${paragraph('a')}\n\n${paragraph('b')}`,
      paragraph('c'),
    ]);
  });

  it('then at sentence ends, then at spaces, then anywhere', () => {
    const sentences = 'One two three. Four five six! Seven eight nine?';
    expect(splitText(sentences, 30)).toEqual(['One two three. Four five six!', 'Seven eight nine?']);
    expect(splitText('alpha beta gamma delta', 16)).toEqual(['alpha beta gamma', 'delta']);
    expect(splitText('x'.repeat(40), 16)).toEqual(['x'.repeat(16), 'x'.repeat(16), 'x'.repeat(8)]);
  });

  it('never cuts inside a code block that fits in a message', () => {
    const code = '```ts\nconst a = 1;\nconst b = 2;\n```';
    const parts = splitText(`Intro text here.\n\n${code}\n\nOutro.`, 45);
    expect(parts.some((part) => part.includes(code))).toBe(true);
    for (const part of parts) expect((part.match(/```/g) ?? []).length % 2).toBe(0);
  });

  it('splits a code block longer than a message between lines, closing and reopening its fence', () => {
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index}`);
    const parts = splitText(`\`\`\`py\n${lines.join('\n')}\n\`\`\``, 60);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(60);
      expect(part.startsWith('```py\n')).toBe(true);
      expect(part.endsWith('\n```')).toBe(true);
    }
    expect(parts.map((part) => part.slice(6, -4)).join('\n')).toBe(lines.join('\n'));
  });

  it('keeps every message within the limit for long mixed text', () => {
    const text = Array.from(
      { length: 50 },
      (_, index) => `Paragraph ${index}. ${'word '.repeat(index * 3)}`,
    ).join('\n\n');
    for (const part of splitText(text, 2000)) expect(part.length).toBeLessThanOrEqual(2000);
  });
});
