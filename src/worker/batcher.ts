import type {
  Engine,
  ImageRequest,
  ImageResult,
  RunOptions,
  TextRequest,
  TextResult,
} from '../engine/index.js';

export type EngineTask =
  | { readonly kind: 'text'; readonly request: TextRequest }
  | { readonly kind: 'image'; readonly request: ImageRequest };

/** An answer, its run time, and its share of the engine's time (run time over batch size). */
export type EngineOutput = (
  | { readonly kind: 'text'; readonly result: TextResult }
  | { readonly kind: 'image'; readonly result: ImageResult }
) & { readonly runMs: number; readonly perJobMs: number };

export interface BatchSettings {
  readonly batchSize: number;
  /** How long the oldest waiting task waits for companions. */
  readonly windowMs: number;
}

interface Pending {
  readonly task: EngineTask;
  readonly options: RunOptions;
  readonly key: string;
  readonly arrivedAt: number;
  readonly resolve: (output: EngineOutput) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * Runs the worker's jobs on its one engine, one batch at a time: compatible tasks (same kind,
 * model and settings apart from the seed) that arrive within `windowMs` of the oldest waiting
 * one are run together, up to `batchSize`. The engine contract takes one request per call, so a
 * batch is that many concurrent calls, which the engine may fuse; a batch never mixes kinds,
 * models or settings. A task whose signal aborts while it waits leaves without running.
 */
export class Batcher {
  readonly #engine: Engine;
  readonly #settings: BatchSettings;
  #pending: Pending[] = [];
  #running = false;
  /** Cancels the pending wake-up (a timer for the window, or the next turn of the event loop). */
  #cancelWake: (() => void) | undefined;
  /** The turn after the window ended has passed: the oldest task's batch is due. */
  #gathered = false;

  constructor(engine: Engine, settings: BatchSettings) {
    this.#engine = engine;
    this.#settings = settings;
  }

  run(task: EngineTask, options: RunOptions): Promise<EngineOutput> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      const pending: Pending = {
        task,
        options,
        key: compatibilityKey(task),
        arrivedAt: Date.now(),
        resolve,
        reject,
      };
      this.#pending.push(pending);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#pending.indexOf(pending);
          if (index === -1) return;
          this.#pending.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running) return;
    const oldest = this.#pending[0];
    if (oldest === undefined) return;
    const companions = this.#pending.filter((pending) => pending.key === oldest.key).length;
    const wait = oldest.arrivedAt + this.#settings.windowMs - Date.now();
    if (companions >= this.#settings.batchSize || (wait <= 0 && this.#gathered)) {
      this.#cancelWake?.();
      this.#cancelWake = undefined;
      this.#gathered = false;
      void this.#flush(oldest.key);
      return;
    }
    if (this.#cancelWake !== undefined) return;
    // Once the window is over, one more turn of the event loop gathers the tasks that arrive in
    // the same turn (jobs a worker took together), so that they run together.
    const wake = () => {
      this.#cancelWake = undefined;
      this.#gathered = wait <= 0;
      this.#schedule();
    };
    if (wait <= 0) {
      const immediate = setImmediate(wake);
      this.#cancelWake = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(wake, wait);
      this.#cancelWake = () => clearTimeout(timer);
    }
  }

  async #flush(key: string): Promise<void> {
    this.#running = true;
    const batch = this.#pending.filter((pending) => pending.key === key).slice(0, this.#settings.batchSize);
    this.#pending = this.#pending.filter((pending) => !batch.includes(pending));
    await Promise.allSettled(batch.map((pending) => this.#execute(pending, batch.length)));
    this.#running = false;
    this.#schedule();
  }

  async #execute(pending: Pending, size: number): Promise<void> {
    try {
      const { task, options } = pending;
      const started = Date.now();
      const output =
        task.kind === 'text'
          ? ({ kind: 'text', result: await this.#engine.generateText(task.request, options) } as const)
          : ({ kind: 'image', result: await this.#engine.generateImage(task.request, options) } as const);
      const runMs = Date.now() - started;
      pending.resolve({ ...output, runMs, perJobMs: runMs / size });
    } catch (error) {
      pending.reject(error);
    }
  }
}

function compatibilityKey(task: EngineTask): string {
  const { seed: _seed, ...settings } = task.request.settings as { seed?: number };
  return `${task.kind}:${task.request.model}:${JSON.stringify(settings)}`;
}
