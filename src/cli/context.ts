import type { Logger } from 'pino';
import { type LoadedConfig, loadConfig } from '../config/index.js';
import { createLogger, exitGracefullyOnSignals, Lifecycle } from '../core/index.js';
import type { CliIo } from './io.js';

export interface GlobalOptions {
  readonly config?: string;
}

/** What every command gets: the validated configuration, a logger, and an owner for resources. */
export interface CommandContext {
  readonly io: CliIo;
  readonly loaded: LoadedConfig;
  readonly logger: Logger;
  readonly lifecycle: Lifecycle;
  /** Aborted when the process is asked to stop; long calls take it. */
  readonly signal: AbortSignal;
}

export async function createCommandContext(io: CliIo, options: GlobalOptions): Promise<CommandContext> {
  const loaded = await loadConfig({ configFile: options.config, env: io.env, cwd: io.cwd });
  const logger = createLogger({
    level: loaded.config.log.level,
    format: loaded.config.log.format,
    destination: io.stderr,
  });
  const abort = new AbortController();
  const lifecycle = new Lifecycle({
    onCloseError: (name, error) => logger.error({ err: error, resource: name }, 'error while closing'),
  });
  lifecycle.add('abort', { close: () => abort.abort() });
  const stopHandlingSignals = exitGracefullyOnSignals({
    lifecycle,
    logger,
    deadlineMs: loaded.config.shutdown.deadlineMs,
  });
  lifecycle.add('signal handlers', { close: stopHandlingSignals });
  return { io, loaded, logger, lifecycle, signal: abort.signal };
}

/** Runs a command's body with a fresh context, closing the context's resources afterwards. */
export type CommandRunner = (action: (context: CommandContext) => Promise<number>) => Promise<void>;
