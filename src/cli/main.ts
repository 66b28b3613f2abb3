import { createPlatformAdapters } from '../bots/adapters.js';
import { onnxEngineFactory } from './engine-settings.js';
import { processIo } from './io.js';
import { runCli } from './program.js';

/** The `emu-bot` executable: runs the CLI on the real process and sets its exit code. */
export async function main(): Promise<void> {
  // A reader that stops early (`emu-bot --help | head`) closes the pipe: not a failure of ours.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await runCli(process.argv.slice(2), processIo(), {
    engineFactory: onnxEngineFactory,
    adapters: createPlatformAdapters,
  });
}
