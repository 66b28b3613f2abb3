import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createLogger, Secret } from '../../src/core/index.js';

const token = 'MTIz.secret-token-value.abc';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('Secret', () => {
  it('reveals its value only when asked', () => {
    const secret = new Secret(token);
    expect(secret.reveal()).toBe(token);
    expect(String(secret)).toBe('[redacted]');
    expect(`${secret}`).toBe('[redacted]');
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ nested: { secret } })).not.toContain(token);
  });
});

describe('createLogger', () => {
  it('never writes a secret, whether as a Secret or under a credential-like field name', () => {
    const { stream, text } = capture();
    const logger = createLogger({ level: 'info', format: 'json', destination: stream });
    logger.info({ discord: { token: new Secret(token) } }, 'configured');
    logger.info({ request: { authorization: `Bot ${token}` }, password: token }, 'calling');
    logger.info({ token }, 'raw');
    expect(text()).toContain('configured');
    expect(text()).not.toContain(token);
    expect(text().split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('writes one JSON object per line when not on a terminal', () => {
    const { stream, text } = capture();
    createLogger({ level: 'debug', format: 'auto', destination: stream }).debug({ step: 1 }, 'hello');
    const line = JSON.parse(text().trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'hello', step: 1, service: 'emu-bot' });
  });

  it('writes readable lines in pretty format', () => {
    const { stream, text } = capture();
    createLogger({ level: 'info', format: 'pretty', destination: stream }).info('ready to serve');
    expect(text()).toMatch(/INFO.*ready to serve/);
    expect(() => JSON.parse(text())).toThrow();
  });
});
