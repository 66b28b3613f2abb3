/**
 * Keeps the edits of one message within Discord's rate limits: at most one edit in flight and
 * one per `intervalMs`; while one waits, newer content replaces older (only the latest matters).
 */
export class EditThrottle<T> {
  readonly #intervalMs: number;
  readonly #edit: (content: T) => Promise<unknown>;
  #pending: T | undefined;
  #lastAt = Number.NEGATIVE_INFINITY;
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #stopped = false;

  /**
   * `delayFirst`: the first edit too waits `intervalMs`, so that a job done sooner needs none and
   * a burst of new jobs does not spend the rate limit on places in line that change at once.
   */
  constructor(
    intervalMs: number,
    edit: (content: T) => Promise<unknown>,
    options: { delayFirst?: boolean } = {},
  ) {
    this.#intervalMs = intervalMs;
    this.#edit = edit;
    if (options.delayFirst === true) this.#lastAt = Date.now();
  }

  push(content: T): void {
    if (this.#stopped) return;
    this.#pending = content;
    this.#schedule();
  }

  /**
   * No more edits: the final answer is about to replace the message. Resolves once an edit
   * already sent has landed, so that it cannot overwrite the answer.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#pending = undefined;
    clearTimeout(this.#timer);
    return this.#inFlight;
  }

  #schedule(): void {
    if (this.#busy || this.#timer !== undefined || this.#pending === undefined) return;
    const wait = this.#lastAt + this.#intervalMs - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, wait);
      this.#timer.unref();
      return;
    }
    const content = this.#pending;
    this.#pending = undefined;
    this.#busy = true;
    this.#lastAt = Date.now();
    // Progress edits are best effort: a failed one is simply superseded by the next.
    this.#inFlight = this.#edit(content)
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.#busy = false;
        if (!this.#stopped) this.#schedule();
      });
  }
}
