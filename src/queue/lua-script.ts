import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptArgument = string | number | Buffer;

/**
 * A server-side Lua script: every Redis state change the queue makes beyond BullMQ's own is one
 * of these, so it happens atomically (BullMQ's style). Runs by SHA and loads the source once when
 * the server does not know it yet (after a restart, for example).
 */
export class LuaScript {
  readonly name: string;
  readonly #source: string;
  readonly #sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
