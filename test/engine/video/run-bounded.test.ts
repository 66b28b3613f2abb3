import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EmuBotError, isEmuBotError } from '../../../src/core/index.js';
import { defaultMaxMemoryBytes, runBounded } from '../../../src/engine/video/run-bounded.js';

const scratch = mkdtempSync(join(tmpdir(), 'emu-bot-run-bounded-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in for a hung ffmpeg: writes its pid where it is told, then sleeps (exec: no child left over). */
const sleeper = join(scratch, 'sleeper');
writeFileSync(sleeper, '#!/bin/sh\necho $$ > "$1"\nexec sleep 30\n');
chmodSync(sleeper, 0o755);

async function failure(promise: Promise<unknown>): Promise<EmuBotError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isEmuBotError(error)) throw new Error(`expected an EmuBotError, got ${String(error)}`);
  return error;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pidWrittenTo(file: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const pid = Number(readFileSync(file, 'utf8'));
      if (pid > 0) return pid;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no pid in ${file}`);
}

describe('runBounded', () => {
  it('returns stdout and the exit code', async () => {
    const result = await runBounded('sh', ['-c', 'printf abc; echo oops >&2; exit 3'], {
      timeoutMs: 5000,
      maxOutputBytes: 100,
    });
    expect(result).toMatchObject({ exitCode: 3, stderr: 'oops\n' });
    expect(result.stdout.toString()).toBe('abc');
  });

  it('kills a child that outlives the timeout, and settles only once it is gone', async () => {
    const pidFile = join(scratch, 'timeout.pid');
    const started = performance.now();
    const error = await failure(runBounded(sleeper, [pidFile], { timeoutMs: 300, maxOutputBytes: 100 }));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toMatch(/took longer than 300 ms/);
    expect(isRunning(await pidWrittenTo(pidFile))).toBe(false);
  });

  it('kills the child when the signal aborts', async () => {
    const pidFile = join(scratch, 'abort.pid');
    const controller = new AbortController();
    const running = failure(
      runBounded(sleeper, [pidFile], { timeoutMs: 10_000, maxOutputBytes: 100, signal: controller.signal }),
    );
    const pid = await pidWrittenTo(pidFile);
    expect(isRunning(pid)).toBe(true);
    controller.abort();
    expect((await running).code).toBe('ABORTED');
    expect(isRunning(pid)).toBe(false);
  });

  it('does not start when the signal has already aborted', async () => {
    const pidFile = join(scratch, 'never.pid');
    const error = await failure(
      runBounded(sleeper, [pidFile], { timeoutMs: 1000, maxOutputBytes: 1, signal: AbortSignal.abort() }),
    );
    expect(error.code).toBe('ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => readFileSync(pidFile)).toThrow();
  });

  it('kills a child that writes more than the output cap', async () => {
    const error = await failure(
      runBounded('cat', ['/dev/zero'], { timeoutMs: 10_000, maxOutputBytes: 100_000 }),
    );
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toBe('cat wrote more than 100000 bytes and was killed');
  });

  it('reports a program that does not exist as FFMPEG_UNAVAILABLE', async () => {
    const error = await failure(
      runBounded('/nonexistent/ffmpeg', [], { timeoutMs: 1000, maxOutputBytes: 1 }),
    );
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toBe('cannot run /nonexistent/ffmpeg: ENOENT');
  });

  it('fails a child that outgrows its memory limit with the typed error', async () => {
    // Doubles a string towards 128 MB (bounded, should the limit not hold); 64 MiB stops it.
    const grow = ['BEGIN { s = "x"; while (length(s) < 134217728) s = s s; print length(s) }'];
    const error = await failure(
      runBounded('awk', grow, { timeoutMs: 10_000, maxOutputBytes: 100, maxMemoryBytes: 64 * 1024 ** 2 }),
    );
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toMatch(/^awk ran out of its 67108864-byte memory limit: /);
    expect(error.userMessage).toMatch(/too much memory/);
  });

  it('lets a child that stays within its memory limit finish', async () => {
    const small = ['BEGIN { s = "x"; while (length(s) < 1048576) s = s s; print length(s) }'];
    const result = await runBounded('awk', small, {
      timeoutMs: 10_000,
      maxOutputBytes: 100,
      maxMemoryBytes: 64 * 1024 ** 2,
    });
    expect(result).toMatchObject({ exitCode: 0 });
    expect(result.stdout.toString()).toBe('1048576\n');
  });

  it('runs the program under the address-space limit, 4 GiB unless told', async () => {
    const limit = (bounds: { maxMemoryBytes?: number }) =>
      runBounded('sh', ['-c', 'ulimit -v'], { timeoutMs: 5000, maxOutputBytes: 100, ...bounds });
    expect((await limit({})).stdout.toString()).toBe(`${(defaultMaxMemoryBytes / 1024).toString()}\n`);
    expect(defaultMaxMemoryBytes).toBe(4 * 1024 ** 3);
    expect((await limit({ maxMemoryBytes: 1024 ** 3 })).stdout.toString()).toBe('1048576\n');
  });

  it('reports a program that cannot be executed as FFMPEG_UNAVAILABLE', async () => {
    const error = await failure(runBounded(join(scratch), [], { timeoutMs: 1000, maxOutputBytes: 1 }));
    expect(error.code).toBe('FFMPEG_UNAVAILABLE');
    expect(error.message).toBe(`cannot run ${scratch}: EACCES`);
  });
});
