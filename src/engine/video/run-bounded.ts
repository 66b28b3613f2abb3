import { spawn } from 'node:child_process';
import { EmuBotError } from '../../core/index.js';

export interface RunBounds {
  readonly timeoutMs: number;
  /** The child is killed once it has written more than this to stdout. */
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal | undefined;
  /**
   * The child's address-space limit (RLIMIT_AS), so a decoder that runs away on a crafted file
   * fails its allocations instead of taking the host's memory. Default `defaultMaxMemoryBytes`.
   */
  readonly maxMemoryBytes?: number;
}

/**
 * 4 GiB of address space: ffmpeg maps about 0.6 GiB before it decodes anything here (shared
 * libraries and its threads' stacks; it cannot start under 0.5 GiB), and the frames it is asked
 * for are bounded by the caller's output cap, so this leaves room for any real video while
 * stopping one that would take the machine's memory.
 */
export const defaultMaxMemoryBytes = 4 * 1024 ** 3;

/** What a program prints when an allocation or mapping fails under the limit. */
const outOfMemory = /out of memory|cannot allocate memory|failed to map segment|bad_alloc|memory exhausted/i;

export interface RunResult {
  /** Null when the process was ended by a signal. */
  readonly exitCode: number | null;
  readonly stdout: Buffer;
  /** The last few kilobytes only: enough for ffmpeg's error line. */
  readonly stderr: string;
}

const stderrTailBytes = 8192;

/**
 * Runs a program with its arguments, stdin closed, under an address-space limit, and kills it with
 * SIGKILL when it outlives `timeoutMs`, writes more than `maxOutputBytes`, or `signal` aborts.
 * It settles only after the child has exited, so no process outlives a rejection. A missing
 * program, and one that fails for want of memory under the limit, are FFMPEG_UNAVAILABLE; another
 * non-zero exit is the caller's to interpret.
 *
 * The limit is set by `/bin/sh -c 'ulimit -v KB; exec "$@"'`: the shell only sets the limit and
 * replaces itself with the program (same pid); the command and arguments are passed as `"$@"`,
 * never parsed by the shell.
 */
export function runBounded(command: string, args: readonly string[], bounds: RunBounds): Promise<RunResult> {
  const { signal } = bounds;
  if (signal?.aborted) return Promise.reject(aborted(command));
  return new Promise((resolve, reject) => {
    const limitKb = Math.max(1, Math.floor((bounds.maxMemoryBytes ?? defaultMaxMemoryBytes) / 1024));
    const child = spawn(
      '/bin/sh',
      ['-c', 'ulimit -v "$1" || exit 125; shift; exec "$@"', 'sh', String(limitKb), command, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], shell: false },
    );
    const chunks: Buffer[] = [];
    let outputBytes = 0;
    let stderr = '';
    let failure: EmuBotError | undefined;
    const stop = (error: EmuBotError): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(timedOut(command, bounds.timeoutMs)), bounds.timeoutMs);
    timer.unref();
    const onAbort = (): void => stop(aborted(command));
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > bounds.maxOutputBytes) {
        stop(
          new EmuBotError(
            'FFMPEG_UNAVAILABLE',
            `${command} wrote more than ${bounds.maxOutputBytes} bytes and was killed`,
            { userMessage: 'I could not read that video safely; try a smaller or shorter one.' },
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-stderrTailBytes);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Spawn failures ('error' without 'close' when the program cannot start at all).
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        failure ??= new EmuBotError('FFMPEG_UNAVAILABLE', `cannot run ${command}: ${error.code}`, {
          cause: error,
        });
      } else {
        failure ??= new EmuBotError('FFMPEG_UNAVAILABLE', `${command} failed: ${error.message}`, {
          cause: error,
        });
      }
      if (child.pid === undefined) settle(null);
    });
    child.on('close', (exitCode) => settle(exitCode));

    function settle(exitCode: number | null): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      failure ??= wrapperFailure(command, exitCode, child.signalCode, stderr, limitKb);
      if (failure !== undefined) reject(failure);
      else resolve({ exitCode, stdout: Buffer.concat(chunks), stderr });
    }
  });
}

function timedOut(command: string, timeoutMs: number): EmuBotError {
  return new EmuBotError('FFMPEG_UNAVAILABLE', `${command} took longer than ${timeoutMs} ms and was killed`, {
    userMessage: 'That video took too long to read; try a shorter or smaller one.',
  });
}

function aborted(command: string): EmuBotError {
  return new EmuBotError('ABORTED', `${command} was cancelled`);
}

/** Failures of the program's start or of its memory, told apart from its own errors. */
function wrapperFailure(
  command: string,
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  limitKb: number,
): EmuBotError | undefined {
  if (exitCode === 0) return undefined;
  const userMessage = 'That video needs too much memory to read; try a smaller or shorter one.';
  if (outOfMemory.test(stderr)) {
    const last = stderr.trim().split('\n').at(-1) ?? '';
    return new EmuBotError(
      'FFMPEG_UNAVAILABLE',
      `${command} ran out of its ${limitKb * 1024}-byte memory limit: ${last}`,
      { userMessage },
    );
  }
  if (signal !== null && signal !== 'SIGKILL') {
    return new EmuBotError(
      'FFMPEG_UNAVAILABLE',
      `${command} was ended by ${signal} (its memory limit is ${limitKb * 1024} bytes)`,
      { userMessage },
    );
  }
  // The shell's own failures to start the program (its messages start with its name, "sh: "):
  // 127 not found, 126 not executable.
  if ((exitCode === 127 || exitCode === 126) && /^sh: /m.test(stderr)) {
    return new EmuBotError(
      'FFMPEG_UNAVAILABLE',
      `cannot run ${command}: ${exitCode === 127 ? 'ENOENT' : 'EACCES'}`,
    );
  }
  if (exitCode === 125 && /ulimit/.test(stderr)) {
    return new EmuBotError('FFMPEG_UNAVAILABLE', `cannot limit the memory of ${command}: ${stderr.trim()}`);
  }
  return undefined;
}
