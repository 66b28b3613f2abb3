import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real terminal for a program, as a person has one: tmux on its own socket runs the command in
 * a pseudo-terminal; keys are typed into it and the screen is read back.
 */
export class TmuxTerminal {
  readonly #socket: string;

  private constructor(socket: string) {
    this.#socket = socket;
  }

  /** Starts `command` (run by sh in `cwd`); when it ends, its exit status stays on the screen. */
  static start(command: string, cwd: string): TmuxTerminal {
    const terminal = new TmuxTerminal(`emu-bot-test-${process.pid}-${Date.now()}`);
    terminal.#tmux([
      'new-session',
      '-d',
      '-x',
      '200',
      '-y',
      '60',
      '-c',
      cwd,
      `${command}; echo "[exited $?]"; sleep 600`,
    ]);
    return terminal;
  }

  /** Types a line and presses Enter. */
  type(line: string): void {
    this.#tmux(['send-keys', '-t', '0', '-l', line]);
    this.#tmux(['send-keys', '-t', '0', 'Enter']);
  }

  /** The whole screen and its scroll-back, as text. */
  screen(): string {
    return this.#tmux(['capture-pane', '-p', '-J', '-t', '0', '-S', '-1000']);
  }

  /** Waits until the screen shows `pattern` `count` times (default once); fails with the screen. */
  async waitFor(pattern: RegExp, { count = 1, timeoutMs = 20_000 } = {}): Promise<string> {
    const global = new RegExp(
      pattern.source,
      pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if ((screen.match(global) ?? []).length >= count) return screen;
      if (Date.now() > deadline)
        throw new Error(`the terminal never showed ${pattern} x${count}:\n${screen}`);
      await sleep(100);
    }
  }

  close(): void {
    try {
      this.#tmux(['kill-server']);
    } catch {
      // Already gone with its last session.
    }
  }

  #tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }
}
