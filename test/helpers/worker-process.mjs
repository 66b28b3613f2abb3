// Runs `emu-bot worker` from the built dist/ with the test engine, as a real child process
// that tests can SIGKILL. The engine's time per job comes from TEST_ENGINE_DELAY_MS; the rest
// of the configuration from EMU_BOT_* variables as usual.
import { runCli } from '../../dist/cli/program.js';
import { createTestEngine } from './engines.mjs';

const delayMs = Number(process.env.TEST_ENGINE_DELAY_MS ?? '0');
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
process.exitCode = await runCli(['worker'], io, {
  engineFactory: async (models) => createTestEngine({ models, delayMs }),
});
