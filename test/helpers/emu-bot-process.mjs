// Runs the built `emu-bot` (dist/) with the test engine, as a real child process that tests can
// signal or SIGKILL: `node emu-bot-process.mjs worker|bot|start`. The engine's time per job comes
// from TEST_ENGINE_DELAY_MS. With TEST_ADAPTER=1 a `test` platform adapter runs in bot processes:
// it enqueues one text job when it starts and prints each outcome it is given as a JSON line on
// stdout. The rest of the configuration comes from EMU_BOT_* variables as usual.
import { runCli } from '../../dist/cli/program.js';
import { createTestEngine } from './engines.mjs';

const delayMs = Number(process.env.TEST_ENGINE_DELAY_MS ?? '0');

function testAdapter() {
  return {
    platform: 'test',
    async start(queue) {
      const settings = { maxNewTokens: 8, numBeams: 1, lengthPenalty: 0, minLength: 1, repetitionPenalty: 1 };
      await queue.enqueue({
        kind: 'text',
        origin: { platform: 'test', userId: 'ada', serverId: null, reference: '' },
        request: { model: 'instruct', prompt: 'hello from the adapter', images: [], settings },
      });
    },
    async deliver(outcome) {
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
    },
    update() {},
    async close() {},
  };
}

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
process.exitCode = await runCli(process.argv.slice(2), io, {
  engineFactory: async (models) => createTestEngine({ models, delayMs }),
  ...(process.env.TEST_ADAPTER === '1' ? { adapters: () => [testAdapter()] } : {}),
});
