import type { Config } from '../../config/index.js';
import { createRedisConnection } from '../../queue/index.js';
import type { Check } from '../check.js';

export function redisCheck(config: Config): Check {
  return {
    name: 'redis',
    async run() {
      const redis = createRedisConnection(config.redis, { failFast: true, connectTimeoutMs: 3000 });
      // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than the rejection's
      // "Connection is closed", so keep the first one for the report.
      let socketError: Error | undefined;
      redis.on('error', (error: Error) => {
        socketError ??= error;
      });
      try {
        await redis.connect();
        await redis.ping();
        const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown version';
        return [{ name: 'redis', status: 'ok', summary: `${config.redis.url} answers (Redis ${version})` }];
      } catch (error) {
        const reason = (socketError ?? (error instanceof Error ? error : new Error(String(error)))).message;
        const needsAuth = /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(reason);
        const fix = needsAuth
          ? 'set EMU_BOT_REDIS__PASSWORD (and redis.username for an ACL user) to credentials this Redis accepts'
          : 'start redis-server, or point redis.url (EMU_BOT_REDIS__URL) at your Redis';
        return [{ name: 'redis', status: 'fail', summary: `cannot use ${config.redis.url}: ${reason}`, fix }];
      } finally {
        redis.disconnect();
      }
    },
  };
}
