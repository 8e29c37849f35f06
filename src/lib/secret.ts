import { inspect } from 'node:util';

/**
 * A value that must never reach a log line, an error message or a response. Printing it in any way
 * shows `[secret]`; only `reveal()` gives the value, and only code that needs it calls that.
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
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}
