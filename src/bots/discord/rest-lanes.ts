import type { REST } from 'discord.js';

/** Requests that can wait: final answers go before progress (place in line, steps, text so far). */
export type LaterPriority = 'final' | 'progress';

interface Waiter {
  readonly rank: number;
  readonly start: () => void;
}

const ranks: Record<LaterPriority, number> = { final: 0, progress: 1 };

export interface RestLanesOptions {
  /** Requests of each global window left to acknowledgements that may arrive meanwhile. */
  readonly reserve?: number;
  /** Waiting requests handed to discord.js at once, at most. */
  readonly maxInFlight?: number;
  readonly now?: () => number;
}

/**
 * Puts acknowledgements first under Discord's global limit of 50 bot requests a second, which
 * discord.js enforces first come, first served. Acknowledgements go to discord.js at once; other
 * requests are handed over only while no acknowledgement waits and the current window has room
 * beyond a reserve, final answers before progress edits. Interaction callbacks are not limited
 * and do not pass through here.
 */
export class RestLanes {
  readonly #rest: Pick<REST, 'globalRemaining' | 'globalReset'>;
  readonly #reserve: number;
  readonly #maxInFlight: number;
  readonly #now: () => number;
  readonly #waiting: Waiter[] = [];
  #urgent = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(rest: Pick<REST, 'globalRemaining' | 'globalReset'>, options: RestLanesOptions = {}) {
    this.#rest = rest;
    this.#reserve = options.reserve ?? 10;
    this.#maxInFlight = options.maxInFlight ?? 8;
    this.#now = options.now ?? Date.now;
  }

  /** An acknowledgement: sent at once, and everything else waits until it is done. */
  async urgent<T>(call: () => Promise<T>): Promise<T> {
    this.#urgent += 1;
    try {
      return await call();
    } finally {
      this.#urgent -= 1;
      this.#release();
    }
  }

  /** A request that can wait for the acknowledgements in line. */
  async later<T>(priority: LaterPriority, call: () => Promise<T>): Promise<T> {
    await new Promise<void>((start) => {
      const rank = ranks[priority];
      const at = this.#waiting.findIndex((waiter) => waiter.rank > rank);
      this.#waiting.splice(at < 0 ? this.#waiting.length : at, 0, { rank, start });
      this.#release();
    });
    try {
      return await call();
    } finally {
      this.#inFlight -= 1;
      this.#release();
    }
  }

  /** Stops the timer; requests still waiting are released, so that nothing hangs on close. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiting.splice(0)) {
      this.#inFlight += 1;
      waiter.start();
    }
  }

  #release(): void {
    while (this.#waiting.length > 0 && this.#urgent === 0 && this.#inFlight < this.#maxInFlight) {
      const room = this.#room();
      if (room <= this.#inFlight) {
        this.#wakeAtReset();
        return;
      }
      this.#inFlight += 1;
      this.#waiting.shift()?.start();
    }
  }

  /** Requests the current window can still take beyond the reserve (a new window: all but it). */
  #room(): number {
    const fresh = this.#rest.globalReset < this.#now();
    const remaining = fresh ? Number.POSITIVE_INFINITY : this.#rest.globalRemaining;
    return remaining - this.#reserve;
  }

  #wakeAtReset(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(1, this.#rest.globalReset - this.#now() + 1);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, wait);
    this.#timer.unref();
  }
}
