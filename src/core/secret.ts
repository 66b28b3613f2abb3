import { inspect } from 'node:util';

const redacted = '[redacted]';

/**
 * A secret value (token, password). Its text is reachable only through `reveal()`: it prints,
 * serialises and inspects as "[redacted]", so passing a config object to a logger or an error
 * message cannot leak it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}
