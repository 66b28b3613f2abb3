export {
  describeErrorCode,
  EmuBotError,
  type EmuBotErrorOptions,
  type ErrorBlame,
  type ErrorCode,
  errorCodes,
  isEmuBotError,
  toEmuBotError,
} from './errors.js';
export { type Closeable, Lifecycle, type LifecycleEvents } from './lifecycle.js';
export { createLogger, type LogFormat, type LoggerOptions, type LogLevel } from './logger.js';
export { packageRoot } from './paths.js';
export { Secret } from './secret.js';
export { exitGracefullyOnSignals, type ShutdownOptions } from './shutdown.js';
