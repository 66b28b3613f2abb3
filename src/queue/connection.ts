import { Redis } from 'ioredis';
import type { Config } from '../config/index.js';

export interface RedisConnectionOptions {
  /** Fail fast instead of retrying forever: for probes such as `emu-bot doctor`. */
  readonly failFast?: boolean;
  readonly connectTimeoutMs?: number;
  /** For BullMQ workers and event readers, which block: commands wait for a reconnect forever. */
  readonly blocking?: boolean;
}

/**
 * The one place that turns configuration into a Redis client, so every process connects with the
 * same credentials. The caller owns the client and must `quit()` it.
 */
export function createRedisConnection(config: Config['redis'], options: RedisConnectionOptions = {}): Redis {
  const failFast = options.failFast ?? false;
  return new Redis(config.url, {
    ...(config.username === null ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password.reveal() }),
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(failFast ? { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false } : {}),
    ...(options.blocking === true ? { maxRetriesPerRequest: null } : {}),
  });
}
