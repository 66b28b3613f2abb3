import { spawn } from 'node:child_process';
import { EmuBotError } from '../../core/index.js';

export interface RunBounds {
  readonly timeoutMs: number;
  /** The child is killed once it has written more than this to stdout. */
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal | undefined;
}

export interface RunResult {
  /** Null when the process was ended by a signal. */
  readonly exitCode: number | null;
  readonly stdout: Buffer;
  /** The last few kilobytes only: enough for ffmpeg's error line. */
  readonly stderr: string;
}

const stderrTailBytes = 8192;

/**
 * Runs a program (never through a shell) with its arguments, stdin closed, and kills it with
 * SIGKILL when it outlives `timeoutMs`, writes more than `maxOutputBytes`, or `signal` aborts.
 * It settles only after the child has exited, so no process outlives a rejection. A missing
 * program is FFMPEG_UNAVAILABLE; a non-zero exit is the caller's to interpret.
 */
export function runBounded(command: string, args: readonly string[], bounds: RunBounds): Promise<RunResult> {
  const { signal } = bounds;
  if (signal?.aborted) return Promise.reject(aborted(command));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
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
