import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeErrorCode,
  EmuBotError,
  errorCodes,
  isEmuBotError,
  packageRoot,
  toEmuBotError,
} from '../../src/core/index.js';

describe('docs/errors.md', () => {
  const documented = readFileSync(join(packageRoot, 'docs', 'errors.md'), 'utf8');
  const tableCodes = [...documented.matchAll(/^\| `([A-Z_]+)` \| (input|system) \|/gm)].map((match) => ({
    code: match[1],
    blame: match[2],
  }));

  it.each(errorCodes)('documents %s with its blame', (code) => {
    expect(tableCodes).toContainEqual({ code, blame: describeErrorCode(code).blame });
  });

  it('documents no code that the source does not have', () => {
    expect(tableCodes.map((entry) => entry.code).sort()).toEqual([...errorCodes].sort());
  });
});

describe('EmuBotError', () => {
  it('keeps the cause and a default message for people', () => {
    const cause = new Error('ECONNREFUSED 127.0.0.1:6379');
    const error = new EmuBotError('REDIS_UNAVAILABLE', 'cannot reach redis://127.0.0.1:6379', { cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('cannot reach redis://127.0.0.1:6379');
    expect(error.userMessage).toBe(describeErrorCode('REDIS_UNAVAILABLE').userMessage);
    expect(error.userMessage).not.toContain('127.0.0.1');
    expect(error.blame).toBe('system');
  });

  it('takes a user message that replaces the default', () => {
    const error = new EmuBotError('CONFIG_INVALID', 'log.level: found "loud"', { userMessage: 'Bad level.' });
    expect(error.userMessage).toBe('Bad level.');
    expect(error.blame).toBe('input');
  });

  it('is recognised by code', () => {
    const error = new EmuBotError('USAGE', 'unknown option');
    expect(isEmuBotError(error)).toBe(true);
    expect(isEmuBotError(error, 'USAGE')).toBe(true);
    expect(isEmuBotError(error, 'INTERNAL')).toBe(false);
    expect(isEmuBotError(new Error('x'))).toBe(false);
  });

  it('wraps foreign errors as INTERNAL and leaves its own alone', () => {
    const foreign = new TypeError('undefined is not a function');
    const wrapped = toEmuBotError(foreign);
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBe(foreign);
    expect(wrapped.message).toBe('undefined is not a function');
    const own = new EmuBotError('USAGE', 'x');
    expect(toEmuBotError(own)).toBe(own);
    expect(toEmuBotError('a string').message).toBe('a string');
  });
});
