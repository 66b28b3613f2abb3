export { createRedisConnection, type RedisConnectionOptions } from './connection.js';
