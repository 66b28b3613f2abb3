import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Logs go to stderr by default so that command output on stdout stays machine-readable. */
  readonly destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Field names that may carry credentials; pino blanks them wherever they appear one level deep.
 * Secrets are also `Secret` objects, which serialise as "[redacted]"; this is the second fence.
 */
const redactedPaths = ['token', 'password', 'authorization', '*.token', '*.password', '*.authorization'];

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr;
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && destination.isTTY === true);
  const stream: DestinationStream = usePretty
    ? pretty({ destination, colorize: destination.isTTY === true, sync: true, ignore: 'pid,hostname' })
    : (destination as DestinationStream);
  return pino(
    {
      level: options.level,
      base: { service: 'emu-bot' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    stream,
  );
}
