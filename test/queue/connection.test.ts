import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createRedisConnection } from '../../src/queue/index.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer({ password: 'queue-secret' });
});
afterAll(async () => {
  await server.stop();
});

describe('createRedisConnection', () => {
  it('connects with the password from the configuration', async () => {
    const { config } = await loadConfig({
      env: { EMU_BOT_REDIS__URL: server.url, EMU_BOT_REDIS__PASSWORD: 'queue-secret' },
      cwd: '/',
    });
    const redis = createRedisConnection(config.redis);
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('fails fast without the password when asked to', async () => {
    const { config } = await loadConfig({ env: { EMU_BOT_REDIS__URL: server.url }, cwd: '/' });
    const redis = createRedisConnection(config.redis, { failFast: true });
    const errors: string[] = [];
    redis.on('error', (error: Error) => errors.push(error.message));
    try {
      await expect(redis.connect().then(() => redis.ping())).rejects.toThrow();
      expect(errors.join('\n')).toMatch(/NOAUTH/);
    } finally {
      redis.disconnect();
    }
  });
});
