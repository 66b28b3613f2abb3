import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/cli.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestEnv } from '../helpers/queue.js';
import { spawnEmuBot } from '../helpers/worker-processes.js';

const server = useRedisServer();

const commandsIn = (help: string) =>
  [...(help.split('Commands:')[1]?.matchAll(/^ {2}(\w[\w-]*)/gm) ?? [])].map((match) => match[1]);

describe('emu-bot bot, worker and start', () => {
  it('lists worker and start only when an engine can be loaded', async () => {
    const plain = await runInProcess(['--help']);
    expect(commandsIn(plain.stdout)).toContain('bot');
    expect(commandsIn(plain.stdout)).not.toContain('worker');
    const { runCli } = await import('../../src/cli/program.js');
    const stdout = new PassThrough();
    const io = { stdin: new PassThrough(), stdout, stderr: process.stderr, env: {}, cwd: '/' };
    await runCli(['--help'], io, { engineFactory: async () => createTestEngine() });
    const help = String(stdout.read());
    expect(commandsIn(help)).toEqual(expect.arrayContaining(['bot', 'worker', 'start']));
  });

  it('start runs a worker and the bot side in one process: an adapter enqueues and is answered', async () => {
    const env = queueTestEnv(server, { EMU_BOT_OPERATIONS__PORT: '0', TEST_ADAPTER: '1' });
    const process = spawnEmuBot('start', env, 0, 'bot side running');
    try {
      await process.ready;
      const line = await eventually(() =>
        process
          .stdout()
          .split('\n')
          .find((text) => text.startsWith('{')),
      );
      expect(JSON.parse(line)).toMatchObject({
        status: 'completed',
        text: { text: 'echo hello from the adapter' },
      });
      process.child.kill('SIGTERM');
      expect(await process.exited).toBe(0);
    } finally {
      process.child.kill('SIGKILL');
    }
  });

  it('bot runs without a worker and stops cleanly on SIGTERM', async () => {
    const env = queueTestEnv(server, { EMU_BOT_OPERATIONS__PORT: '0' });
    const bot = spawnEmuBot('bot', env, 0, 'bot side running');
    try {
      await bot.ready;
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      bot.child.kill('SIGKILL');
    }
  });
});
