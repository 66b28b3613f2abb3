import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { EmuBotError, packageRoot, toEmuBotError } from '../core/index.js';
import type { EngineFactory } from '../worker/index.js';
import { type AdapterFactory, registerBotCommand } from './commands/bot.js';
import { registerChatCommand } from './commands/chat.js';
import { registerConfigCommand } from './commands/config.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerImagineCommand } from './commands/imagine.js';
import { registerRegisterCommandsCommand } from './commands/register-commands.js';
import { registerRunCommand } from './commands/run.js';
import { registerStartCommand } from './commands/start.js';
import { registerTokenizeCommand } from './commands/tokenize.js';
import { registerWorkerCommand } from './commands/worker.js';
import { type CommandContext, createCommandContext, type GlobalOptions } from './context.js';
import type { CliIo } from './io.js';

const exitCodes = { success: 0, failure: 1, badInput: 2 } as const;

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

export interface RunCliOptions {
  /**
   * Loads the inference engine for `emu-bot worker` and `emu-bot start`; those commands are
   * listed only when one is given.
   */
  readonly engineFactory?: EngineFactory;
  /** The platform adapters `emu-bot bot` and `emu-bot start` run; none by default. */
  readonly adapters?: AdapterFactory;
}

/**
 * Runs one `emu-bot` invocation and resolves to its exit code: 0 done, 2 the input or
 * configuration is at fault (one line on stderr: `error [CODE]: message`), 1 anything else.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: RunCliOptions = {},
): Promise<number> {
  let exitCode: number = exitCodes.success;
  const program = new Command('emu-bot')
    .description('Emu, the multimodal generalist, in Discord and Slack')
    .version(packageVersion(), '-V, --version')
    .option('-c, --config <file>', 'a YAML configuration file layered over the defaults (or EMU_BOT_CONFIG)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Errors are printed below in the project's one-line format.
      outputError: () => {},
    });

  const run = async (action: (context: CommandContext) => Promise<number>): Promise<void> => {
    const context = await createCommandContext(io, program.opts<GlobalOptions>());
    try {
      exitCode = await action(context);
    } finally {
      await context.lifecycle.close();
    }
  };
  registerConfigCommand(program, run);
  registerDoctorCommand(program, run);
  registerChatCommand(program, run);
  registerRunCommand(program, run);
  registerImagineCommand(program, run);
  registerTokenizeCommand(program, run);
  const adapters = options.adapters ?? (() => []);
  registerBotCommand(program, run, adapters);
  registerRegisterCommandsCommand(program, run);
  if (options.engineFactory !== undefined) {
    registerWorkerCommand(program, run, options.engineFactory);
    registerStartCommand(program, run, options.engineFactory, adapters);
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportFailure(error, io);
  }
}

function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version requests arrive as "errors" with exit code 0; help shown for a missing
    // command has already told the person what to do.
    if (error.exitCode === 0) return exitCodes.success;
    if (error.code === 'commander.help') return exitCodes.badInput;
    const usage = new EmuBotError('USAGE', `${error.message.replace(/^error: /, '')} (see emu-bot --help)`);
    return printError(usage, io);
  }
  return printError(toEmuBotError(error), io);
}

function printError(error: EmuBotError, io: CliIo): number {
  io.stderr.write(`error [${error.code}]: ${error.message}\n`);
  if (error.blame === 'system' && error.cause instanceof Error && error.cause.stack !== undefined) {
    io.stderr.write(`${error.cause.stack}\n`);
  }
  return error.blame === 'input' ? exitCodes.badInput : exitCodes.failure;
}
