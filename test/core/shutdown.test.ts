import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, exitGracefullyOnSignals, Lifecycle } from '../../src/core/index.js';

const quiet = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});
const removers: Array<() => void> = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

function waitForExit(): { exit: (code: number) => void; code: Promise<number> } {
  let exit: (code: number) => void = () => {};
  const code = new Promise<number>((resolve) => {
    exit = resolve;
  });
  return { exit, code };
}

describe('exitGracefullyOnSignals', () => {
  it('closes everything on SIGTERM and exits 0', async () => {
    const closed: string[] = [];
    const lifecycle = new Lifecycle();
    lifecycle.add('redis', { close: () => void closed.push('redis') });
    lifecycle.add('bot', { close: async () => void closed.push('bot') });
    const { exit, code } = waitForExit();
    removers.push(
      exitGracefullyOnSignals({ lifecycle, logger: quiet, deadlineMs: 1000, exit, signals: ['SIGUSR2'] }),
    );
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await code).toBe(0);
    expect(closed).toEqual(['bot', 'redis']);
  });

  it('exits 1 when closing overruns the deadline', async () => {
    const lifecycle = new Lifecycle();
    lifecycle.add('hung', { close: () => new Promise<void>(() => {}) });
    const { exit, code } = waitForExit();
    removers.push(
      exitGracefullyOnSignals({ lifecycle, logger: quiet, deadlineMs: 30, exit, signals: ['SIGUSR2'] }),
    );
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(await code).toBe(1);
  });

  it('exits 1 at once on a second signal', async () => {
    const lifecycle = new Lifecycle();
    lifecycle.add('slow', { close: () => new Promise<void>((resolve) => setTimeout(resolve, 5000).unref()) });
    const codes: number[] = [];
    removers.push(
      exitGracefullyOnSignals({
        lifecycle,
        logger: quiet,
        deadlineMs: 10_000,
        exit: (c) => codes.push(c),
        signals: ['SIGUSR2'],
      }),
    );
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(codes).toEqual([1]);
  });
});
