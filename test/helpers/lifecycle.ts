import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server.js';

/**
 * The redis-server of a test file: started before the file's tests and stopped after them. The
 * handle may be taken at the top of the file; it reads the running server when the tests use it.
 */
export function useRedisServer(options: RedisServerOptions = {}): RedisServer {
  let started: RedisServer | undefined;
  beforeAll(async () => {
    started = await startRedisServer(options);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const running = (): RedisServer => {
    if (started === undefined) throw new Error('the test redis-server is used outside the tests');
    return started;
  };
  return {
    get port() {
      return running().port;
    },
    get url() {
      return running().url;
    },
    get directory() {
      return running().directory;
    },
    restart: () => running().restart(),
    stop: () => running().stop(),
  };
}

/** Resources a test opens; each is closed after the test, the last opened first. */
export function closeAfterEach(): Array<{ close(): Promise<void> }> {
  const closing: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const resource of closing.splice(0).reverse()) await resource.close();
  });
  return closing;
}
