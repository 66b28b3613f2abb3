import type { Logger } from 'pino';
import type { Lifecycle } from './lifecycle.js';

export interface ShutdownOptions {
  readonly lifecycle: Lifecycle;
  readonly logger: Logger;
  readonly deadlineMs: number;
  /** Injected so tests can observe the exit code; defaults to `process.exit`. */
  readonly exit?: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
}

/**
 * On the first SIGINT or SIGTERM, closes everything the lifecycle owns within the deadline and
 * exits 0 (1 if the deadline passed). A second signal exits at once: the person pressing Ctrl-C
 * twice means it. Returns a function that removes the handlers.
 */
export function exitGracefullyOnSignals(options: ShutdownOptions): () => void {
  const { lifecycle, logger, deadlineMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];

  const onSignal = (signal: NodeJS.Signals): void => {
    if (lifecycle.closing) {
      logger.warn({ signal }, 'second signal: exiting without waiting for shutdown');
      exit(1);
      return;
    }
    logger.info({ signal, deadlineMs }, 'shutting down');
    lifecycle.closeWithin(deadlineMs).then(
      () => {
        logger.info('shut down cleanly');
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown did not finish in time');
        exit(1);
      },
    );
  };

  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
