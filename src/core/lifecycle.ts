import { EmuBotError } from './errors.js';

export interface Closeable {
  close(): Promise<void> | void;
}

export interface LifecycleEvents {
  onCloseError?(name: string, error: unknown): void;
}

interface Registration {
  readonly name: string;
  readonly resource: Closeable;
  closed: boolean;
}

/**
 * Owns the process's long-lived resources. Each registers once it exists; `close()` closes them
 * in reverse order of creation (children before the things they depend on), keeps going past
 * errors, and returns the same promise however often it is called.
 */
export class Lifecycle implements AsyncDisposable {
  readonly #registrations: Registration[] = [];
  readonly #events: LifecycleEvents;
  #closing: Promise<void> | undefined;

  constructor(events: LifecycleEvents = {}) {
    this.#events = events;
  }

  /** Registers `resource` and returns it, so creation and registration read as one step. */
  add<T extends Closeable>(name: string, resource: T): T {
    if (this.#closing !== undefined) {
      throw new EmuBotError('INTERNAL', `cannot register "${name}": shutdown has already begun`);
    }
    this.#registrations.push({ name, resource, closed: false });
    return resource;
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  /**
   * Closes within `deadlineMs`; rejects with SHUTDOWN_TIMEOUT naming the resources still open,
   * so a hung connection cannot keep the process alive forever.
   */
  async closeWithin(deadlineMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const stillOpen = this.#registrations.filter((registration) => !registration.closed);
        const names = stillOpen.map((registration) => registration.name).join(', ');
        reject(new EmuBotError('SHUTDOWN_TIMEOUT', `still open after ${deadlineMs} ms: ${names}`));
      }, deadlineMs);
      timer.unref();
    });
    try {
      await Promise.race([this.close(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #closeAll(): Promise<void> {
    for (const registration of [...this.#registrations].reverse()) {
      try {
        await registration.resource.close();
      } catch (error) {
        this.#events.onCloseError?.(registration.name, error);
      }
      registration.closed = true;
    }
  }
}
