import { EmuBotError } from '../../core/index.js';

/** How many chat.update calls the workspace may take: a steady rate and a burst on top. */
export interface EditRate {
  readonly perMinute: number;
  readonly burst: number;
}

/**
 * chat.update is a Tier 3 method: about 50 calls a minute per workspace, with short bursts
 * tolerated. One bot token is one workspace, so one limiter serves all of an adapter's edits.
 */
export const slackEditRate: EditRate = Object.freeze({ perMinute: 50, burst: 10 });

export type EditKind = 'final' | 'progress';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A token bucket shared by every edit of a workspace. Final edits (answers, refusals) are served
 * first and in the order they asked; progress edits only take a token while half the burst is
 * left for finals. A rate-limited answer from Slack (429, Retry-After) pauses every edit.
 */
export class EditLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #reserve: number;
  readonly #finals: Waiter[] = [];
  readonly #progress: Waiter[] = [];
  #tokens: number;
  #refilledAt = Date.now();
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(rate: EditRate) {
    if (!(rate.perMinute > 0) || !(rate.burst >= 1))
      throw new EmuBotError('CONFIG_INVALID', 'an edit rate needs perMinute > 0 and burst >= 1');
    this.#perMs = rate.perMinute / 60_000;
    this.#burst = rate.burst;
    this.#reserve = Math.floor(rate.burst / 2);
    this.#tokens = rate.burst;
  }

  /** Resolves when an edit of this kind may be sent; rejects once the limiter is closed. */
  acquire(kind: EditKind): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      (kind === 'final' ? this.#finals : this.#progress).push({ resolve, reject });
      this.#drain();
    });
  }

  /** Gives back a token that was not used (the edit it was for was overtaken). */
  release(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
    this.#drain();
  }

  /** Slack answered 429: no edit is sent for `ms`, and the bucket starts empty after it. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms);
    this.#tokens = 0;
    this.#refilledAt = this.#pausedUntil;
    this.#drain();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const waiter of [...this.#finals.splice(0), ...this.#progress.splice(0)])
      waiter.reject(closedError());
  }

  #drain(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    if (now >= this.#pausedUntil) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#perMs);
      this.#refilledAt = now;
      for (;;) {
        const next =
          this.#finals.length > 0 && this.#tokens >= 1
            ? this.#finals.shift()
            : this.#finals.length === 0 && this.#tokens >= 1 + this.#reserve
              ? this.#progress.shift()
              : undefined;
        if (next === undefined) break;
        this.#tokens -= 1;
        next.resolve();
      }
    }
    if (this.#finals.length === 0 && this.#progress.length === 0) return;
    const needed = (this.#finals.length > 0 ? 1 : 1 + this.#reserve) - this.#tokens;
    const wait = Math.max(this.#pausedUntil - now, Math.ceil(Math.max(0, needed) / this.#perMs), 1);
    this.#timer = setTimeout(() => this.#drain(), wait);
    this.#timer.unref();
  }
}

function closedError(): EmuBotError {
  return new EmuBotError('ABORTED', 'the Slack adapter closed before the edit was sent');
}
