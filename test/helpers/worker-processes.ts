import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/index.js';

export interface EmuBotProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has logged that it is running. */
  readonly ready: Promise<void>;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Everything written to stdout so far. */
  stdout(): string;
}

/**
 * Starts `emu-bot COMMAND` from the built dist/ (`npm test` builds first) with the test engine
 * taking `delayMs` per job, as a child process; ready once it logs `readyMessage`.
 */
export function spawnEmuBot(
  command: string,
  env: Record<string, string>,
  delayMs: number,
  readyMessage: string,
): EmuBotProcess {
  const entry = join(packageRoot, 'test', 'helpers', 'emu-bot-process.mjs');
  const child = spawn(process.execPath, [entry, command], {
    env: {
      PATH: process.env['PATH'],
      ...env,
      EMU_BOT_LOG__LEVEL: 'info',
      TEST_ENGINE_DELAY_MS: String(delayMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal as NodeJS.Signals))),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes(`"msg":"${readyMessage}"`)) resolve();
    });
    void exited.then((code) =>
      reject(new Error(`emu-bot ${command} exited (${code}) before it was ready:\n${log}`)),
    );
  });
  ready.catch(() => {});
  return { child, pid: child.pid as number, ready, exited, stdout: () => output };
}

/** Starts `emu-bot worker` as a child process. */
export function spawnWorker(env: Record<string, string>, delayMs: number): EmuBotProcess {
  return spawnEmuBot('worker', env, delayMs, 'worker ready');
}
