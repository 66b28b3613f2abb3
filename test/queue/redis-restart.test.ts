import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotService } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

const logger = pino({ level: 'silent' });
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer({ appendOnly: true });
});
afterAll(async () => {
  await server.stop();
});

describe('Redis restarted with an append-only file', () => {
  it('loses no accepted job: every one is answered once after the restart', async () => {
    const config = await queueTestConfig(
      queueTestEnv(server, { EMU_BOT_WORKER__MODELS: 'instruct', EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '100' }),
    );
    const sink = new RecordingSink();
    const bot = await BotService.start({ config, logger, sinks: [sink] });
    let worker: GpuWorker | undefined;
    try {
      await bot.client.registry.announce('placeholder', ['instruct'], 120_000);
      const accepted: string[] = [];
      const enqueue = async (index: number) => {
        try {
          accepted.push((await bot.enqueue(textRequest(`user${index % 7}`, `job ${index}`))).jobId);
        } catch {
          // Refused while Redis was down: not accepted, so nothing is owed.
        }
      };
      for (let index = 0; index < 20; index++) await enqueue(index);
      const during = Promise.all(Array.from({ length: 20 }, (_, index) => enqueue(20 + index)));
      await server.restart();
      await during;
      expect(accepted.length).toBeGreaterThanOrEqual(20);
      const engine = createTestEngine({ models: ['instruct'] });
      worker = await GpuWorker.start({ config, engine, logger });
      await eventually(() => accepted.every((jobId) => sink.outcome(jobId) !== undefined), 20_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sink.outcomes.filter((outcome) => accepted.includes(outcome.jobId))).toHaveLength(
        accepted.length,
      );
      expect(sink.outcomes.every((outcome) => outcome.status === 'completed')).toBe(true);
    } finally {
      await worker?.close();
      await bot.close();
    }
  });
});
