import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { packageRoot } from '../../src/core/index.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs the CLI in this process with its own streams and environment. */
export async function runInProcess(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  cwd = packageRoot,
  input = '',
): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const io: CliIo = { stdin: Readable.from([input]), stdout: stdout.stream, stderr: stderr.stream, env, cwd };
  const code = await runCli(argv, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Runs the built `emu-bot` executable as a person would (needs `npm run build`). */
export function runExecutable(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(packageRoot, 'bin', 'emu-bot.js'), ...argv],
      { env: { PATH: process.env['PATH'], ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
