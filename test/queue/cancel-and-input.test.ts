import { Queue } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BotService, type JobRequest } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { closeAfterEach, useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';

const logger = pino({ level: 'silent' });
const server = useRedisServer();

const closing = closeAfterEach();

async function setUp(overrides: Record<string, string> = {}, delayMs = 0) {
  const config = await queueTestConfig(
    queueTestEnv(server, { EMU_BOT_WORKER__MODELS: 'instruct', ...overrides }),
  );
  const sink = new RecordingSink();
  const bot = await BotService.start({ config, logger, sinks: [sink] });
  closing.push(bot);
  const engine = createTestEngine({ models: ['instruct'], delayMs });
  const startWorker = async () => closing.push(await GpuWorker.start({ config, engine, logger }));
  return { config, sink, bot, engine, startWorker };
}

describe('cancellation', () => {
  it('removes a queued job and answers it with ABORTED, once', async () => {
    const { bot, sink, engine, startWorker } = await setUp();
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    const job = await bot.enqueue(textRequest('ada', 'never mind'));
    await expect(bot.cancel(job.jobId)).resolves.toBe('removed');
    expect(await eventually(() => sink.outcome(job.jobId))).toMatchObject({
      status: 'failed',
      code: 'ABORTED',
    });
    await startWorker();
    const later = await bot.enqueue(textRequest('ada', 'after'));
    await eventually(() => sink.outcome(later.jobId));
    expect(engine.stats.prompts).toEqual(['after']);
    expect(sink.outcomes).toHaveLength(2);
  });

  it("stops a running job through the engine's AbortSignal and answers it with ABORTED", async () => {
    const { bot, sink, engine, startWorker } = await setUp({}, 10_000);
    await startWorker();
    const job = await bot.enqueue(textRequest('ada', 'a long one'));
    await eventually(() => engine.stats.active === 1);
    const started = Date.now();
    await expect(bot.cancel(job.jobId)).resolves.toBe('stopping');
    expect(await eventually(() => sink.outcome(job.jobId))).toMatchObject({
      status: 'failed',
      code: 'ABORTED',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(engine.stats.calls).toBe(1);
    const state = await bot.client
      .queue('instruct')
      .getJob(job.jobId)
      .then((stored) => stored?.getState());
    expect(state).toBe('failed');
  });

  it('says JOB_NOT_FOUND for a job that does not exist', async () => {
    const { bot } = await setUp();
    await expect(bot.cancel('no-such-job')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('stops a job that runs past queue.runTimeoutMs with JOB_TIMEOUT and does not retry it', async () => {
    const { bot, sink, engine, startWorker } = await setUp({ EMU_BOT_QUEUE__RUN_TIMEOUT_MS: '200' }, 5_000);
    await startWorker();
    const job = await bot.enqueue(textRequest('ada', 'slow'));
    expect(await eventually(() => sink.outcome(job.jobId))).toMatchObject({
      status: 'failed',
      code: 'JOB_TIMEOUT',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(engine.stats.calls).toBe(1);
  });
});

describe('bad input', () => {
  const valid = textRequest('ada', 'hello');
  it.each<[string, unknown, RegExp]>([
    [
      'a missing field',
      { ...valid, origin: { platform: 'test', userId: 'ada', serverId: null } },
      /origin\.reference/,
    ],
    ['a wrong kind', { ...valid, kind: 'video' }, /kind/],
    ['an image job for the instruct model', { ...valid, kind: 'image' }, /request/],
    [
      'an oversized prompt',
      { ...valid, request: { ...valid.request, prompt: 'x'.repeat(40_000) } },
      /prompt/,
    ],
    [
      'an image whose bytes do not match its size',
      {
        ...valid,
        request: {
          ...valid.request,
          prompt: '[IMG]',
          images: [{ width: 4, height: 4, data: new Uint8Array(5) }],
        },
      },
      /width x height x 3/,
    ],
    [
      'an image over queue.payload.maxImageBytes',
      {
        ...valid,
        request: {
          ...valid.request,
          prompt: '[IMG]',
          images: [{ width: 1024, height: 1024, data: new Uint8Array(1024 * 1024 * 3) }],
        },
      },
      /maxImageBytes/,
    ],
    [
      'placeholders that do not match the images',
      { ...valid, request: { ...valid.request, prompt: '[IMG] x' } },
      /placeholder/,
    ],
    [
      'too many new tokens',
      {
        ...valid,
        request: { ...valid.request, settings: { ...valid.request.settings, maxNewTokens: 5000 } },
      },
      /maxNewTokens/,
    ],
    [
      'early stopping that is not a yes or no',
      {
        ...valid,
        request: { ...valid.request, settings: { ...valid.request.settings, earlyStopping: 'yes' } },
      },
      /earlyStopping/,
    ],
  ])('rejects %s at enqueue with JOB_INVALID', async (_name, request, message) => {
    const { bot } = await setUp();
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    const rejected = bot.enqueue(request as JobRequest);
    await expect(rejected).rejects.toMatchObject({ code: 'JOB_INVALID', blame: 'input' });
    await expect(rejected).rejects.toThrow(message);
    expect(await bot.client.queue('instruct').count()).toBe(0);
  });

  it('takes the optional search settings the engine knows, such as early stopping', async () => {
    const { bot } = await setUp();
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    const request = textRequest('ada', 'hello');
    if (request.kind !== 'text') throw new Error('expected a text request');
    await bot.enqueue({
      ...request,
      request: {
        ...request.request,
        settings: { ...request.request.settings, numBeams: 2, earlyStopping: true },
      },
    });
    expect(await bot.client.queue('instruct').count()).toBe(1);
  });

  it('fails a malformed job a worker finds without retrying it, and tells the person why', async () => {
    const { bot, sink, engine, config, startWorker } = await setUp();
    await startWorker();
    const queue = new Queue('instruct', { connection: bot.client.redis, prefix: bot.client.keys.bullPrefix });
    closing.push(queue);
    const origin = { platform: 'test', userId: 'ada', serverId: null, reference: '' };
    const job = await queue.add(
      'text',
      { kind: 'text', model: 'instruct', origin, prompt: 42 },
      { attempts: 3 },
    );
    const outcome = await eventually(() => sink.outcome(job.id as string));
    expect(outcome).toMatchObject({ status: 'failed', code: 'JOB_INVALID' });
    const stored = await queue.getJob(job.id as string);
    expect(await stored?.getState()).toBe('failed');
    expect(stored?.attemptsMade).toBe(1);
    expect(engine.stats.calls).toBe(0);
    expect(config.queue.attempts).toBe(3);
  });
});
