/**
 * The one error type of emu-bot. Every failure that crosses a module boundary is an
 * `EmuBotError` with a code from the closed set below, so callers branch on codes, the CLI maps
 * them to exit codes, and docs/errors.md can list them all (a test keeps that list complete).
 */

/** Who has to act to fix a failure: the person's input or configuration, or the system. */
export type ErrorBlame = 'input' | 'system';

interface ErrorCodeInfo {
  readonly blame: ErrorBlame;
  /** Short and polite; shown to people in chat or on a terminal when no better message is given. */
  readonly userMessage: string;
}

const codeTable = {
  USAGE: {
    blame: 'input',
    userMessage: 'That command was not quite right; see --help for how to use it.',
  },
  CONFIG_FILE_UNREADABLE: {
    blame: 'input',
    userMessage: 'The configuration file could not be read.',
  },
  CONFIG_PARSE_FAILED: {
    blame: 'input',
    userMessage: 'The configuration file is not valid YAML.',
  },
  CONFIG_INVALID: {
    blame: 'input',
    userMessage: 'The configuration has a value that is not allowed.',
  },
  CONFIG_SECRET_IN_FILE: {
    blame: 'input',
    userMessage: 'Secrets belong in the environment, not in configuration files.',
  },
  SECRET_FILE_UNREADABLE: {
    blame: 'input',
    userMessage: 'A secret file named in the environment could not be read.',
  },
  REDIS_UNAVAILABLE: {
    blame: 'system',
    userMessage: 'The job queue is unavailable right now. Please try again in a moment.',
  },
  SHUTDOWN_TIMEOUT: {
    blame: 'system',
    userMessage: 'emu-bot took too long to shut down cleanly.',
  },
  MEDIA_UNSUPPORTED: {
    blame: 'input',
    userMessage: 'I can only read images (PNG, JPEG, WebP, GIF, AVIF, TIFF) and videos (MP4, WebM, MOV).',
  },
  MEDIA_UNDECODABLE: {
    blame: 'input',
    userMessage: 'I could not read that file; it may be damaged or incomplete.',
  },
  MEDIA_TOO_LARGE: {
    blame: 'input',
    userMessage: 'That file is too large for me to look at.',
  },
  FFMPEG_UNAVAILABLE: {
    blame: 'system',
    userMessage: 'I cannot read videos right now. Please try again later.',
  },
  PROMPT_TOO_LONG: {
    blame: 'input',
    userMessage:
      'That conversation is too long for me to take in at once; try a shorter question or fewer attachments.',
  },
  PROMPT_BLOCKED: {
    blame: 'input',
    userMessage: 'Sorry, I cannot help with that request here.',
  },
  REQUEST_UNSUPPORTED: {
    blame: 'input',
    userMessage: 'Sorry, I cannot do that with what this request holds.',
  },
  IMAGE_GENERATION_NOT_ALLOWED: {
    blame: 'input',
    userMessage: 'Drawing images is not allowed in this channel.',
  },
  ATTACHMENT_HOST_NOT_ALLOWED: {
    blame: 'input',
    userMessage: 'I can only read files uploaded to this chat.',
  },
  ATTACHMENT_DOWNLOAD_FAILED: {
    blame: 'system',
    userMessage: 'I could not fetch that file; it may have expired. Please upload it again.',
  },
  BUNDLE_INVALID: {
    blame: 'input',
    userMessage: 'The model files are incomplete or do not match this version of emu-bot.',
  },
  INFERENCE_FAILED: {
    blame: 'system',
    userMessage: 'The model failed while answering. Please try again.',
  },
  ABORTED: {
    blame: 'system',
    userMessage: 'The request was cancelled.',
  },
  JOB_INVALID: {
    blame: 'input',
    userMessage: 'That request could not be queued; it is incomplete or too large.',
  },
  QUEUE_LIMIT_REACHED: {
    blame: 'input',
    userMessage: 'You have too many requests waiting; please wait for one to finish before asking again.',
  },
  NO_WORKER_FOR_MODEL: {
    blame: 'system',
    userMessage: 'No model server that can answer this is running right now. Please try again later.',
  },
  JOB_TIMEOUT: {
    blame: 'system',
    userMessage: 'That took too long, so I stopped. Please try again later.',
  },
  JOB_NOT_FOUND: {
    blame: 'input',
    userMessage: 'I could not find that request; it may have finished already.',
  },
  INTERNAL: {
    blame: 'system',
    userMessage: 'Something went wrong on our side. Please try again.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof codeTable;

export const errorCodes: readonly ErrorCode[] = Object.freeze(Object.keys(codeTable) as ErrorCode[]);

export function describeErrorCode(code: ErrorCode): ErrorCodeInfo {
  return codeTable[code];
}

export interface EmuBotErrorOptions {
  readonly cause?: unknown;
  /** Replaces the code's default message for people; never include secrets or internals. */
  readonly userMessage?: string;
}

export class EmuBotError extends Error {
  override readonly name = 'EmuBotError';
  readonly code: ErrorCode;
  readonly userMessage: string;

  /** `message` is for logs and operators: precise, naming the file, key or value at fault. */
  constructor(code: ErrorCode, message: string, options: EmuBotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.userMessage = options.userMessage ?? codeTable[code].userMessage;
  }

  get blame(): ErrorBlame {
    return codeTable[this.code].blame;
  }
}

export function isEmuBotError(value: unknown, code?: ErrorCode): value is EmuBotError {
  return value instanceof EmuBotError && (code === undefined || value.code === code);
}

/** Wraps anything thrown into an EmuBotError, keeping the original as `cause`. */
export function toEmuBotError(value: unknown): EmuBotError {
  if (value instanceof EmuBotError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new EmuBotError('INTERNAL', message, { cause: value });
}
