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

  /** `binary`: string replies come back as Buffers. */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly ScriptArgument[],
    binary = false,
  ): Promise<unknown> {
    try {
      return binary
        ? await redis.callBuffer('EVALSHA', this.#sha, keys.length, ...keys, ...args)
        : await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return binary
        ? redis.callBuffer('EVAL', this.#source, keys.length, ...keys, ...args)
        : redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

interface PendingCall {
  readonly keys: readonly string[];
  readonly args: readonly ScriptArgument[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** The most calls, and binary bytes, one batched script call carries, so that none runs long. */
const maxCallsPerScript = 256;
const maxBytesPerScript = 8 * 1024 * 1024;

/**
 * A script whose calls are batched: calls made on one connection in the same turn of the event
 * loop (the jobs a worker took together, the outcomes of a batch that finished together, the
 * requests a bot enqueued together) go to Redis as one script call, which runs the one-call body
 * for each in the order they were made. Each call's result is the body's for that call; each
 * call's effects are exactly those of running the body alone, and the whole batch is one atomic
 * step. One round trip and one script invocation serve them all, which is most of the queue's
 * cost per job with a fast engine.
 *
 * The body is written as for a single call (`KEYS`, `ARGV`, `return`); it must not return nil or
 * false (Lua would cut the array of results short).
 */
export class BatchedScript {
  readonly name: string;
  readonly #script: LuaScript;
  readonly #binary: boolean;
  readonly #pending = new Map<Redis, PendingCall[]>();

  /** `binary`: string replies come back as Buffers (for scripts that return stored bytes). */
  constructor(name: string, body: string, options: { readonly binary?: boolean } = {}) {
    this.name = name;
    this.#binary = options.binary ?? false;
    this.#script = new LuaScript(name, batchedSource(body));
  }

  run(redis: Redis, keys: readonly string[], args: readonly ScriptArgument[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let calls = this.#pending.get(redis);
      if (calls === undefined) {
        calls = [];
        this.#pending.set(redis, calls);
        setImmediate(() => this.#flush(redis));
      }
      calls.push({ keys, args, resolve, reject });
    });
  }

  #flush(redis: Redis): void {
    const calls = this.#pending.get(redis) ?? [];
    this.#pending.delete(redis);
    let chunk: PendingCall[] = [];
    let bytes = 0;
    for (const call of calls) {
      const size = call.args.reduce<number>((sum, arg) => sum + (Buffer.isBuffer(arg) ? arg.length : 0), 0);
      if (chunk.length > 0 && (chunk.length >= maxCallsPerScript || bytes + size > maxBytesPerScript)) {
        void this.#send(redis, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(call);
      bytes += size;
    }
    if (chunk.length > 0) void this.#send(redis, chunk);
  }

  async #send(redis: Redis, calls: readonly PendingCall[]): Promise<void> {
    const keys: string[] = [];
    const counts: ScriptArgument[] = [calls.length];
    const values: ScriptArgument[] = [];
    for (const call of calls) {
      keys.push(...call.keys);
      counts.push(call.keys.length, call.args.length);
      values.push(...call.args);
    }
    try {
      const results = (await this.#script.run(
        redis,
        keys,
        [...counts, ...values],
        this.#binary,
      )) as unknown[];
      for (const [index, call] of calls.entries()) call.resolve(results[index]);
    } catch (error) {
      for (const call of calls) call.reject(error);
    }
  }
}

/**
 * Wraps a one-call body into a script that runs it once per call. ARGV: the number of calls n,
 * then n pairs (keys of the call, arguments of the call), then every call's arguments in order;
 * KEYS: every call's keys in order.
 */
function batchedSource(body: string): string {
  return `
local function one(KEYS, ARGV)
${body}
end
local calls = tonumber(ARGV[1])
local results = {}
local keyAt, argAt = 0, 1 + 2 * calls
for call = 1, calls do
  local keyCount, argCount = tonumber(ARGV[2 * call]), tonumber(ARGV[2 * call + 1])
  local keys, args = {}, {}
  for i = 1, keyCount do keys[i] = KEYS[keyAt + i] end
  for i = 1, argCount do args[i] = ARGV[argAt + i] end
  keyAt, argAt = keyAt + keyCount, argAt + argCount
  results[call] = one(keys, args)
end
return results
`;
}
