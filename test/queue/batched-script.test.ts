import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BotService } from '../../src/queue/index.js';
import { BatchedScript } from '../../src/queue/lua-script.js';
import { queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const closing: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const resource of closing.splice(0).reverse()) await resource.close();
});

/** How many scripts Redis has run since the last call. */
async function scriptCalls(): Promise<number> {
  const stats = await redis.info('commandstats');
  await redis.config('RESETSTAT');
  return [...stats.matchAll(/cmdstat_eval(?:sha)?:calls=(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
}

describe('BatchedScript', () => {
  it('sends the calls of one turn of the event loop as one script call, each with its own result', async () => {
    const append = new BatchedScript(
      'test-append',
      `redis.call('RPUSH', KEYS[1], ARGV[1])
return {ARGV[1], redis.call('LLEN', KEYS[1]), #KEYS}`,
    );
    await append.run(redis, ['{t}:warm-up'], ['loads the script']);
    await scriptCalls();
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((value, index) =>
        append.run(redis, index % 2 === 0 ? ['{t}:even'] : ['{t}:odd', '{t}:unused'], [value]),
      ),
    );
    expect(results).toEqual([
      ['a', 1, 1],
      ['b', 1, 2],
      ['c', 2, 1],
      ['d', 2, 2],
    ]);
    expect(await scriptCalls()).toBe(1);
    // Calls in separate turns go separately.
    await append.run(redis, ['{t}:even'], ['e']);
    await append.run(redis, ['{t}:even'], ['f']);
    expect(await scriptCalls()).toBe(2);
    expect(await redis.lrange('{t}:even', 0, -1)).toEqual(['a', 'c', 'e', 'f']);
  });

  it('rejects every call of a batch whose script fails', async () => {
    const failing = new BatchedScript('test-failing', `return redis.call('INCR', KEYS[1])`);
    await redis.set('{t}:text', 'not a number');
    const calls = [failing.run(redis, ['{t}:count'], []), failing.run(redis, ['{t}:text'], [])];
    for (const call of calls) await expect(call).rejects.toThrow(/not an integer/);
  });
});

describe('admission', () => {
  it('takes the admission back when BullMQ refuses the add: no waiting entry, no stored image', async () => {
    const config = await queueTestConfig(
      queueTestEnv(server, { EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '1', EMU_BOT_WORKER__MODELS: 'instruct' }),
    );
    const bot = await BotService.start({
      config,
      logger: pino({ level: 'silent' }),
      sinks: [new RecordingSink()],
    });
    closing.push(bot);
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    const add = vi
      .spyOn(bot.client.queue('instruct'), 'add')
      .mockRejectedValueOnce(new Error('Redis went away'));
    const request = textRequest('ada', '[IMG] what is this?');
    const withImage = {
      ...request,
      request: { ...request.request, images: [{ width: 1, height: 1, data: new Uint8Array([1, 2, 3]) }] },
    } as typeof request;
    await expect(bot.enqueue(withImage)).rejects.toThrow('Redis went away');
    expect(add).toHaveBeenCalledTimes(1);
    const keys = bot.client.keys;
    expect(await redis.zcard(keys.waiting('user', 'ada'))).toBe(0);
    expect(await redis.zcard(keys.waiting('server', 'server-1'))).toBe(0);
    expect(await redis.keys(`${keys.bullPrefix}:emu:job:*`)).toEqual([]);
    // The failed request does not count against ada's limit of one queued job.
    await expect(bot.enqueue(withImage)).resolves.toMatchObject({ position: 1 });
    expect(await redis.zcard(keys.waiting('user', 'ada'))).toBe(1);
    expect(await redis.keys(`${keys.bullPrefix}:emu:job:*`)).toHaveLength(1);
  });
});
