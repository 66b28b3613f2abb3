import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { BotService, type JobRequest } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { closeAfterEach, useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';

const logger = pino({ level: 'silent' });
const server = useRedisServer();

const closing = closeAfterEach();

async function setUp(overrides: Record<string, string> = {}, delayMs = 0) {
  const config: Config = await queueTestConfig(queueTestEnv(server, overrides));
  const engine = createTestEngine({ delayMs });
  const worker = await GpuWorker.start({ config, engine, logger });
  closing.push(worker);
  const sink = new RecordingSink();
  const bot = await BotService.start({ config, logger, sinks: [sink] });
  closing.push(bot);
  return { config, engine, worker, sink, bot };
}

const imageRequest: JobRequest = {
  kind: 'image',
  origin: { platform: 'test', userId: 'painter', serverId: null, reference: '' },
  request: {
    model: 'pretrain',
    prompt: 'a red circle',
    images: [],
    settings: { seed: 1, steps: 3, guidanceScale: 7.5, width: 64, height: 64 },
  },
};

describe('GpuWorker', () => {
  it('answers a text job and an image job, each once, with progress on the way', async () => {
    const { sink, bot } = await setUp({}, 150);
    const text = await bot.enqueue(textRequest('ada', 'what is this'));
    const image = await bot.enqueue(imageRequest);
    const answered = await eventually(() => sink.outcome(text.jobId));
    expect(answered).toMatchObject({ status: 'completed', text: { text: 'echo what is this' } });
    const drawn = await eventually(() => sink.outcome(image.jobId));
    expect(drawn.status).toBe('completed');
    if (drawn.status !== 'completed' || drawn.image === undefined) throw new Error('no image');
    expect(Buffer.from(drawn.image.png).subarray(1, 4).toString()).toBe('PNG');
    expect(sink.updates.some((update) => update.jobId === text.jobId && update.state === 'running')).toBe(
      true,
    );
    expect(sink.outcomes).toHaveLength(2);
  });

  it('runs compatible jobs together as one batch', async () => {
    const { engine, sink, bot } = await setUp({ EMU_BOT_WORKER__BATCH_WINDOW_MS: '100' }, 100);
    const jobs = await Promise.all(
      ['a', 'b', 'c', 'd'].map((user) => bot.enqueue(textRequest(user, `hi ${user}`))),
    );
    await eventually(() => jobs.every((job) => sink.outcome(job.jobId) !== undefined));
    expect(engine.stats.maxActive).toBe(4);
  });

  it('passes images to the engine as stored, and deletes them once answered', async () => {
    const { sink, bot, config } = await setUp();
    const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, index) => index);
    const request = textRequest('ada', 'look [IMG]<image>[/IMG] here');
    const job = await bot.enqueue({
      ...request,
      request: { ...request.request, images: [{ width: 2, height: 2, data: pixels }] },
    } as JobRequest);
    await eventually(() => sink.outcome(job.jobId));
    const keys = await bot.client.redis.keys(`{${config.redis.keyPrefix}}:emu:job:${job.jobId}:image:*`);
    expect(keys).toEqual([]);
  });
});
