/**
 * Python's `str.strip()` whitespace (`str.isspace`), which the reference tokenizer and answer
 * stripping use. It is not JavaScript's `trim` set: Python also strips \x1c-\x1f and \x85, and
 * keeps \ufeff. Every member is in the Basic Multilingual Plane, so testing UTF-16 code units is exact.
 */
const pythonWhitespace = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

export function isPythonWhitespace(codeUnit: number): boolean {
  return pythonWhitespace.has(codeUnit);
}

/** Python's `text.lstrip()`. */
export function pythonLeftStrip(text: string): string {
  let start = 0;
  while (start < text.length && pythonWhitespace.has(text.charCodeAt(start))) start += 1;
  return text.slice(start);
}

/** Python's `text.rstrip()`. */
export function pythonRightStrip(text: string): string {
  let end = text.length;
  while (end > 0 && pythonWhitespace.has(text.charCodeAt(end - 1))) end -= 1;
  return text.slice(0, end);
}

/** Python's `text.strip()`. */
export function pythonStrip(text: string): string {
  return pythonLeftStrip(pythonRightStrip(text));
}
