import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from './redis-server.js';

describe('startRedisServer', () => {
  it('runs a private server that answers, survives a restart empty, and is gone after stop', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.set('key', 'value');
      expect(await client.get('key')).toBe('value');
      await server.restart();
      // Persistence is off, so a restart loses data the way a crashed cache would.
      expect(await client.get('key')).toBeNull();
    } finally {
      client.disconnect();
      await server.stop();
    }
    const probe = new Redis(server.url, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    await expect(probe.connect()).rejects.toThrow();
    probe.disconnect();
  });

  it('gives two servers different ports and removes their data directories', async () => {
    const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    expect(first.port).not.toBe(second.port);
    await Promise.all([first.stop(), second.stop()]);
    expect(existsSync(first.directory)).toBe(false);
    expect(existsSync(second.directory)).toBe(false);
  });
});
