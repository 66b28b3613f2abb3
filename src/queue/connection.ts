import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
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
 *
 * With `redis.clusterNodes` set, the client is an ioredis `Cluster` seeded with those nodes. It
 * answers the same commands as a single `Redis`, and every key the queue uses (BullMQ's and
 * ours) shares the `{keyPrefix}` hash tag, so scripts, pipelines and MULTIs all stay in one slot;
 * the return type stays `Redis` so that callers need not care which it is.
 */
export function createRedisConnection(config: Config['redis'], options: RedisConnectionOptions = {}): Redis {
  const failFast = options.failFast ?? false;
  const shared: RedisOptions = {
    ...(config.username === null ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password.reveal() }),
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    ...(failFast ? { maxRetriesPerRequest: 0, retryStrategy: () => null } : {}),
    ...(options.blocking === true ? { maxRetriesPerRequest: null } : {}),
  };
  if (config.clusterNodes.length > 0) {
    return createCluster(config.clusterNodes, shared, failFast) as unknown as Redis;
  }
  return new Redis(config.url, {
    ...shared,
    lazyConnect: true,
    ...(failFast ? { enableOfflineQueue: false } : {}),
  });
}

/** Seed nodes as ioredis wants them: host and port, TLS for `rediss://`. */
export function clusterSeeds(urls: readonly string[]): Array<{ host: string; port: number }> {
  return urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 6379) };
  });
}

function createCluster(urls: readonly string[], redisOptions: RedisOptions, failFast: boolean): Cluster {
  const tls = urls.some((url) => url.startsWith('rediss:'));
  const clusterOptions: ClusterOptions = {
    lazyConnect: true,
    redisOptions: { ...redisOptions, ...(tls ? { tls: {} } : {}) },
    ...(failFast ? { clusterRetryStrategy: () => null, enableOfflineQueue: false } : {}),
  };
  return new Cluster(clusterSeeds(urls), clusterOptions);
}
