import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BotService, type JobOutcome, ResultPublisher } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { closeAfterEach, useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';

const logger = pino({ level: 'silent' });
const server = useRedisServer();

const closing = closeAfterEach();

const fast = { leaseMs: 300, claimIdleMs: 200 };

async function setUp() {
  const config = await queueTestConfig(queueTestEnv(server, { EMU_BOT_WORKER__MODELS: 'instruct' }));
  const startBot = async (sink: RecordingSink) => {
    const bot = await BotService.start({ config, logger, sinks: [sink], delivery: fast });
    closing.push(bot);
    return bot;
  };
  return { config, startBot };
}

const outcome = (jobId: string): JobOutcome => ({
  jobId,
  kind: 'text',
  origin: { platform: 'test', userId: 'ada', serverId: null, reference: 'channel-1' },
  status: 'completed',
  text: { text: 'hello', tokenIds: [1], promptTokens: 1, finishReason: 'eos' },
});

describe('exactly-once replies', () => {
  it('publishes a job outcome once however often it is published', async () => {
    const { config, startBot } = await setUp();
    const sink = new RecordingSink();
    const bot = await startBot(sink);
    const publisher = new ResultPublisher(bot.client.redis, bot.client.keys, config.queue);
    const data = { origin: outcome('j1').origin, images: [] };
    expect(await publisher.publish(outcome('j1'), data)).toBe(true);
    expect(await publisher.publish(outcome('j1'), data)).toBe(false);
    await eventually(() => sink.outcome('j1'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.outcomes).toHaveLength(1);
  });

  it('delivers a duplicated stream entry once, by its idempotency record', async () => {
    const { startBot } = await setUp();
    const sink = new RecordingSink();
    const bot = await startBot(sink);
    const fields = ['job', 'j2', 'outcome', JSON.stringify(outcome('j2'))];
    await bot.client.redis.xadd(bot.client.keys.results('test'), '*', ...fields);
    await bot.client.redis.xadd(bot.client.keys.results('test'), '*', ...fields);
    await eventually(() => sink.outcome('j2'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.outcomes).toHaveLength(1);
    expect(await bot.client.redis.xlen(bot.client.keys.results('test'))).toBe(0);
  });

  it('tries a failed delivery again, and delivers it once', async () => {
    const { config, startBot } = await setUp();
    const sink = new RecordingSink();
    sink.failNext = 2;
    const bot = await startBot(sink);
    const publisher = new ResultPublisher(bot.client.redis, bot.client.keys, config.queue);
    await publisher.publish(outcome('j3'), { origin: outcome('j3').origin, images: [] });
    await eventually(() => sink.outcome('j3'), 5_000);
    expect(sink.failNext).toBe(0);
    expect(sink.outcomes).toHaveLength(1);
  });

  it('keeps a result for a platform no running bot serves until one starts', async () => {
    const { config, startBot } = await setUp();
    const other = new RecordingSink();
    Object.defineProperty(other, 'platform', { value: 'elsewhere' });
    const bot = await startBot(other);
    const publisher = new ResultPublisher(bot.client.redis, bot.client.keys, config.queue);
    await publisher.publish(outcome('j4'), { origin: outcome('j4').origin, images: [] });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sink = new RecordingSink();
    await startBot(sink);
    await eventually(() => sink.outcome('j4'), 5_000);
    expect(other.outcomes).toHaveLength(0);
  });
});

describe('a job run again after it was answered', () => {
  it('completes without running the engine, and is answered once', async () => {
    const { config, startBot } = await setUp();
    const sink = new RecordingSink();
    const bot = await startBot(sink);
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    const job = await bot.enqueue(textRequest('ada', 'answered before the crash'));
    // As if a worker had published the answer and died before BullMQ marked the job completed.
    const publisher = new ResultPublisher(bot.client.redis, bot.client.keys, config.queue);
    const origin = {
      platform: 'test',
      userId: 'ada',
      serverId: 'server-1',
      reference: 'answered before the crash',
    };
    await publisher.publish({ ...outcome(job.jobId), origin }, { origin, images: [] });
    const engine = createTestEngine({ models: ['instruct'] });
    closing.push(await GpuWorker.start({ config, engine, logger }));
    await eventually(
      async () => (await bot.client.queue('instruct').getJob(job.jobId))?.finishedOn !== undefined,
    );
    expect(await (await bot.client.queue('instruct').getJob(job.jobId))?.getState()).toBe('completed');
    expect(engine.stats.calls).toBe(0);
    await eventually(() => sink.outcome(job.jobId));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.outcomes).toHaveLength(1);
  });
});

describe('a bot restarted while its job runs', () => {
  it('still receives the result', async () => {
    const { config, startBot } = await setUp();
    const engine = createTestEngine({ models: ['instruct'], delayMs: 600 });
    closing.push(await GpuWorker.start({ config, engine, logger }));
    const first = new RecordingSink();
    const bot = await startBot(first);
    const job = await bot.enqueue(textRequest('ada', 'while you were away'));
    await eventually(() => engine.stats.active === 1);
    await bot.close();
    await eventually(() => engine.stats.active === 0 && engine.stats.calls === 1);
    const second = new RecordingSink();
    await startBot(second);
    const delivered = await eventually(() => second.outcome(job.jobId));
    expect(delivered).toMatchObject({ status: 'completed', text: { text: 'echo while you were away' } });
    expect(first.outcomes).toHaveLength(0);
  });
});
