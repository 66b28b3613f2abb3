import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/index.js';
import { BotService, QueueMetrics, startOperationsServer } from '../../src/queue/index.js';
import { GpuWorker } from '../../src/worker/index.js';
import { createTestEngine } from '../helpers/engines.mjs';
import { closeAfterEach, useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';

const logger = pino({ level: 'silent' });
const server = useRedisServer();

const closing = closeAfterEach();

async function setUp(overrides: Record<string, string> = {}) {
  const config = await queueTestConfig(
    queueTestEnv(server, { EMU_BOT_WORKER__MODELS: 'instruct', ...overrides }),
  );
  const metrics = new QueueMetrics();
  const sink = new RecordingSink();
  const bot = await BotService.start({ config, logger, sinks: [sink], metrics });
  closing.push(bot);
  const operations = await startOperationsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    queues: [...bot.client.queues.values()],
    adminToken: new Secret('let-me-in'),
    readiness: [() => bot.readiness()],
    logger,
  });
  closing.push(operations);
  const startWorker = async () =>
    closing.push(
      await GpuWorker.start({ config, engine: createTestEngine({ models: ['instruct'] }), logger, metrics }),
    );
  return { bot, sink, operations, startWorker };
}

describe('operations endpoints', () => {
  it('is alive at once, and ready only while a worker is alive', async () => {
    const { operations, startWorker } = await setUp();
    expect((await fetch(`${operations.url}/livez`)).status).toBe(200);
    const down = await fetch(`${operations.url}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({
      ready: false,
      checks: [{ redis: 'up', models: { instruct: { state: 'down', workers: 0 } } }],
    });
    await startWorker();
    const up = await fetch(`${operations.url}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({
      checks: [{ models: { instruct: { state: 'up', workers: 1 } } }],
    });
  });

  it('reports overload when the estimated wait passes queue.overloadWaitMs', async () => {
    const { bot, operations } = await setUp({ EMU_BOT_QUEUE__OVERLOAD_WAIT_MS: '1000' });
    await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
    await bot.client.redis.hset(bot.client.keys.runTimes, 'instruct', 600);
    await bot.enqueue(textRequest('ada', 'one'));
    await bot.enqueue(textRequest('bob', 'two'));
    const response = await fetch(`${operations.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      checks: [{ models: { instruct: { state: 'overloaded', waiting: 2, estimatedWaitMs: 1800 } } }],
    });
  });

  it('serves Prometheus metrics: queue depth, run times, tokens, failures and rejections', async () => {
    const { bot, sink, operations, startWorker } = await setUp();
    await startWorker();
    const job = await bot.enqueue(textRequest('ada', 'count me'));
    await eventually(() => sink.outcome(job.jobId));
    await bot.enqueue({ ...textRequest('ada', 'x'), kind: 'video' } as never).catch(() => {});
    const text = await (await fetch(`${operations.url}/metrics`)).text();
    expect(text).toMatch(/emu_bot_queue_depth\{model="instruct",state="prioritized"\} 0/);
    expect(text).toMatch(/emu_bot_job_run_seconds_count\{model="instruct",kind="text"\} 1/);
    expect(text).toMatch(/emu_bot_job_wait_seconds_count\{model="instruct",kind="text"\} 1/);
    expect(text).toMatch(/emu_bot_generated_tokens_total\{model="instruct"\} 3/);
    expect(text).toMatch(/emu_bot_enqueue_rejections_total\{code="JOB_INVALID"\} 1/);
    expect(text).toContain('emu_bot_job_failures_total');
  });

  it('shows Bull Board at /admin/queues only with the admin token', async () => {
    const { operations } = await setUp();
    expect((await fetch(`${operations.url}/admin/queues`)).status).toBe(401);
    const wrong = await fetch(`${operations.url}/admin/queues`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const page = await fetch(`${operations.url}/admin/queues`, {
      headers: { authorization: 'Bearer let-me-in' },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const basic = Buffer.from('operator:let-me-in').toString('base64');
    const api = await fetch(`${operations.url}/admin/queues/api/queues`, {
      headers: { authorization: `Basic ${basic}` },
    });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as { queues: Array<{ name: string }> }).queues.map(
      (queue) => queue.name,
    );
    expect(names.sort()).toEqual(['instruct', 'pretrain']);
  });
});
