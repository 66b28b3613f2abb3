import { describe, expect, it } from 'vitest';
import { EmuBotError, Lifecycle } from '../../src/core/index.js';

describe('Lifecycle', () => {
  it('closes resources in reverse order of creation, once, however often it is asked', async () => {
    const closed: string[] = [];
    const lifecycle = new Lifecycle();
    for (const name of ['redis', 'queue', 'bot'])
      lifecycle.add(name, { close: () => void closed.push(name) });
    const first = lifecycle.close();
    const second = lifecycle.close();
    expect(second).toBe(first);
    await first;
    await lifecycle.close();
    expect(closed).toEqual(['bot', 'queue', 'redis']);
  });

  it('keeps closing past an error and reports it', async () => {
    const closed: string[] = [];
    const reported: string[] = [];
    const lifecycle = new Lifecycle({ onCloseError: (name) => reported.push(name) });
    lifecycle.add('first', { close: () => void closed.push('first') });
    lifecycle.add('broken', {
      close: async () => {
        throw new Error('socket already gone');
      },
    });
    lifecycle.add('last', { close: () => void closed.push('last') });
    await lifecycle.close();
    expect(closed).toEqual(['last', 'first']);
    expect(reported).toEqual(['broken']);
  });

  it('refuses new resources once shutdown began', async () => {
    const lifecycle = new Lifecycle();
    await lifecycle.close();
    expect(() => lifecycle.add('late', { close: () => {} })).toThrow(EmuBotError);
  });

  it('gives up at the deadline and names what is still open', async () => {
    const lifecycle = new Lifecycle();
    lifecycle.add('fast', { close: () => {} });
    lifecycle.add('hung', { close: () => new Promise<void>(() => {}) });
    const failure = await lifecycle.closeWithin(50).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmuBotError);
    expect((failure as EmuBotError).code).toBe('SHUTDOWN_TIMEOUT');
    expect((failure as EmuBotError).message).toContain('hung');
    expect((failure as EmuBotError).message).toContain('fast');
  });

  it('closes through await using', async () => {
    const closed: string[] = [];
    {
      await using lifecycle = new Lifecycle();
      lifecycle.add('resource', { close: () => void closed.push('resource') });
    }
    expect(closed).toEqual(['resource']);
  });
});
