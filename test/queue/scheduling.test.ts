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

/**
 * A bot, and a heartbeat for the instruct model without a worker behind it, so that jobs are
 * accepted and wait; `startWorker` then starts a real worker with one slot (jobs run one by
 * one, in the order the queue hands them out).
 */
async function setUp(overrides: Record<string, string> = {}) {
  const config = await queueTestConfig(
    queueTestEnv(server, {
      EMU_BOT_WORKER__BATCH_SIZE: '1',
      EMU_BOT_WORKER__MODELS: 'instruct',
      ...overrides,
    }),
  );
  const sink = new RecordingSink();
  const bot = await BotService.start({ config, logger, sinks: [sink] });
  closing.push(bot);
  await bot.client.registry.announce('placeholder', ['instruct'], 60_000);
  const startWorker = async (delayMs = 0) => {
    const engine = createTestEngine({ models: ['instruct'], delayMs });
    closing.push(await GpuWorker.start({ config, engine, logger }));
    return engine;
  };
  return { config, sink, bot, startWorker };
}

describe('priorities and fairness', () => {
  it('runs interactive jobs before bulk ones, and reports places in line', async () => {
    const { bot, sink, startWorker } = await setUp();
    const bulk = await bot.enqueue(textRequest('ada', 'bulk one', { priority: 'bulk' }));
    const interactive = await bot.enqueue(textRequest('bob', 'interactive one'));
    expect(bulk.position).toBe(1);
    expect(interactive.position).toBe(1);
    const [place] = await bot.client.estimator.places('instruct', [bulk.jobId]);
    expect(place?.position).toBe(2);
    const engine = await startWorker();
    await eventually(() => sink.outcomes.length === 2);
    expect(engine.stats.prompts).toEqual(['interactive one', 'bulk one']);
  });

  it("interleaves users round by round, so one person's many jobs do not starve the others", async () => {
    const { bot, sink, startWorker } = await setUp({ EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '50' });
    for (let index = 1; index <= 5; index++) await bot.enqueue(textRequest('ada', `ada ${index}`));
    for (let index = 1; index <= 2; index++) await bot.enqueue(textRequest('bob', `bob ${index}`));
    await bot.enqueue(textRequest('cy', 'cy 1'));
    const engine = await startWorker();
    await eventually(() => sink.outcomes.length === 8);
    expect(engine.stats.prompts).toEqual([
      'ada 1',
      'bob 1',
      'cy 1',
      'ada 2',
      'bob 2',
      'ada 3',
      'ada 4',
      'ada 5',
    ]);
  });

  it("keeps one person's own jobs in order when they join a queue already moving", async () => {
    const { bot, sink, startWorker } = await setUp({ EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '50' });
    for (let index = 1; index <= 3; index++) await bot.enqueue(textRequest('ada', `ada ${index}`));
    const engine = await startWorker(50);
    await eventually(() => sink.outcomes.length >= 1);
    for (let index = 4; index <= 5; index++) await bot.enqueue(textRequest('ada', `ada ${index}`));
    await eventually(() => sink.outcomes.length === 5);
    expect(engine.stats.prompts).toEqual(['ada 1', 'ada 2', 'ada 3', 'ada 4', 'ada 5']);
  });

  it('sends the person updated places in line and an estimated wait as the queue moves', async () => {
    const { bot, sink, startWorker } = await setUp({ EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '50' });
    const jobs = [];
    for (let index = 1; index <= 4; index++)
      jobs.push(await bot.enqueue(textRequest(`user${index}`, `job ${index}`)));
    const last = jobs[3];
    expect(last?.position).toBe(4);
    await startWorker(150);
    await eventually(() => sink.outcomes.length === 4);
    const places = sink.updates.filter((update) => update.jobId === last?.jobId && update.state === 'queued');
    const positions = places.map((update) => (update.state === 'queued' ? update.position : 0));
    expect(positions.length).toBeGreaterThan(0);
    expect(positions).toEqual([...positions].sort((a, b) => b - a));
    expect(Math.min(...positions)).toBeLessThan(4);
    const estimates = places.map((update) => (update.state === 'queued' ? update.estimatedWaitMs : null));
    expect(estimates.some((estimate) => estimate !== null && estimate > 0)).toBe(true);
  });

  it("keeps one person's 50 queued jobs from starving others, even those who come later", async () => {
    const { bot, sink, startWorker } = await setUp({
      EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '50',
      EMU_BOT_QUEUE__LIMITS__SERVER_QUEUED: '100',
    });
    for (let index = 1; index <= 50; index++) await bot.enqueue(textRequest('ada', `ada ${index}`));
    await expect(bot.enqueue(textRequest('ada', 'ada 51'))).rejects.toMatchObject({
      code: 'QUEUE_LIMIT_REACHED',
    });
    for (const user of ['bob', 'cy', 'dan']) {
      for (let index = 1; index <= 2; index++) await bot.enqueue(textRequest(user, `${user} ${index}`));
    }
    const engine = await startWorker(10);
    await eventually(() => engine.stats.prompts.length >= 12);
    // Someone arriving while ada's backlog drains goes next (or after the one job already taken).
    const startedBefore = engine.stats.prompts.length;
    const late = await bot.enqueue(textRequest('eve', 'eve 1'));
    expect(late.position).toBe(1);
    await eventually(() => sink.outcomes.length === 57, 30_000);
    const order = engine.stats.prompts;
    expect(order.slice(0, 8)).toEqual(['ada 1', 'bob 1', 'cy 1', 'dan 1', 'ada 2', 'bob 2', 'cy 2', 'dan 2']);
    expect(order.indexOf('eve 1')).toBeLessThanOrEqual(startedBefore + 1);
    const adas = order.filter((prompt) => prompt.startsWith('ada'));
    expect(adas).toEqual(Array.from({ length: 50 }, (_, index) => `ada ${index + 1}`));
  });
});

const oneRunningJobEach = {
  EMU_BOT_QUEUE__LIMITS__USER_RUNNING: '1',
  EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '1',
};

describe('limits', () => {
  it('refuses a job over the per-user queued limit at once, naming the limit', async () => {
    const { bot } = await setUp({ EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '2' });
    await bot.enqueue(textRequest('ada', 'one'));
    await bot.enqueue(textRequest('ada', 'two'));
    const refused = bot.enqueue(textRequest('ada', 'three'));
    await expect(refused).rejects.toMatchObject({ code: 'QUEUE_LIMIT_REACHED' });
    await expect(refused).rejects.toThrow(/the limit \(queue\.limits\.userQueued\) is 2/);
    // Another person is not held back by ada's limit, and goes ahead of ada's second job.
    await expect(bot.enqueue(textRequest('bob', 'other person'))).resolves.toMatchObject({ position: 2 });
  });

  it('refuses a job over the per-server queued limit', async () => {
    const { bot } = await setUp({ EMU_BOT_QUEUE__LIMITS__SERVER_QUEUED: '2' });
    await bot.enqueue(textRequest('ada', 'one'));
    await bot.enqueue(textRequest('bob', 'two'));
    await expect(bot.enqueue(textRequest('cy', 'three'))).rejects.toMatchObject({
      code: 'QUEUE_LIMIT_REACHED',
      userMessage: expect.stringMatching(/This server already has 2 requests waiting/),
    });
  });

  it('runs at most userRunning jobs of one person at once, while others use the free slots', async () => {
    const { bot, sink } = await setUp({
      EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '10',
      EMU_BOT_QUEUE__LIMITS__USER_RUNNING: '1',
      EMU_BOT_WORKER__BATCH_SIZE: '3',
    });
    const config = await queueTestConfig(
      queueTestEnv(server, {
        EMU_BOT_REDIS__KEY_PREFIX: bot.client.keys.bullPrefix.slice(1, -1),
        EMU_BOT_QUEUE__LIMITS__USER_RUNNING: '1',
        EMU_BOT_WORKER__BATCH_SIZE: '3',
        EMU_BOT_WORKER__BATCH_WINDOW_MS: '100',
      }),
    );
    for (let index = 1; index <= 3; index++) await bot.enqueue(textRequest('ada', `ada ${index}`));
    await bot.enqueue(textRequest('bob', 'bob 1'));
    const engine = createTestEngine({ models: ['instruct'], delayMs: 200 });
    closing.push(await GpuWorker.start({ config, engine, logger }));
    await eventually(() => sink.outcomes.length === 4);
    expect(engine.stats.maxActive).toBe(2);
    expect(engine.stats.prompts.slice(0, 2).sort()).toEqual(['ada 1', 'bob 1']);
    expect(engine.stats.prompts.slice(2)).toEqual(['ada 2', 'ada 3']);
  });

  it('runs at most serverRunning jobs of one server at once, while other servers use the free slots', async () => {
    const { bot, sink } = await setUp({ EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '1' });
    const config = await queueTestConfig(
      queueTestEnv(server, {
        EMU_BOT_REDIS__KEY_PREFIX: bot.client.keys.bullPrefix.slice(1, -1),
        EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '1',
        EMU_BOT_WORKER__BATCH_SIZE: '3',
        EMU_BOT_WORKER__BATCH_WINDOW_MS: '100',
      }),
    );
    const elsewhere = (userId: string, prompt: string): JobRequest => {
      const request = textRequest(userId, prompt);
      return { ...request, origin: { ...request.origin, serverId: 'server-2' } };
    };
    const ada = await bot.enqueue(textRequest('ada', 'ada 1'));
    const bob = await bot.enqueue(textRequest('bob', 'bob 1'));
    const cy = await bot.enqueue(elsewhere('cy', 'cy 1'));
    const engine = createTestEngine({ models: ['instruct'], delayMs: 200 });
    closing.push(await GpuWorker.start({ config, engine, logger }));
    await eventually(() => sink.outcomes.length === 3);
    expect(engine.stats.maxActive).toBe(2);
    expect(engine.stats.prompts.slice(0, 2).sort()).toEqual(['ada 1', 'cy 1']);
    expect(engine.stats.prompts[2]).toBe('bob 1');
    for (const job of [ada, bob, cy]) expect(sink.outcome(job.jobId)).toMatchObject({ status: 'completed' });
  });

  it("counts a crashed worker's expired leases against no running limit, and a live one against it", async () => {
    const { bot, sink, startWorker } = await setUp(oneRunningJobEach);
    const keys = bot.client.keys;
    const redis = bot.client.redis;
    // Leases that ran out long ago: their jobs' worker died without releasing them.
    await redis.zadd(keys.running('user', 'ada'), 1, 'lost-job');
    await redis.zadd(keys.running('server', 'server-1'), 1, 'lost-job');
    // A live lease on another server holds that server's one slot.
    await redis.zadd(keys.running('server', 'server-2'), Date.now() + 60_000, 'running-job');
    const ada = await bot.enqueue(textRequest('ada', 'ada 1'));
    const request = textRequest('bob', 'bob 1');
    const bob = await bot.enqueue({ ...request, origin: { ...request.origin, serverId: 'server-2' } });
    const engine = await startWorker();
    await eventually(() => sink.outcome(ada.jobId) !== undefined);
    expect(sink.outcome(ada.jobId)).toMatchObject({ status: 'completed' });
    expect(await redis.zscore(keys.running('user', 'ada'), 'lost-job')).toBeNull();
    expect(await redis.zscore(keys.running('server', 'server-1'), 'lost-job')).toBeNull();
    expect(sink.outcome(bob.jobId)).toBeUndefined();
    expect(engine.stats.prompts).toEqual(['ada 1']);
  });

  it("lets a re-run through on its own live lease at the running limit, and forgets the job's entries once answered", async () => {
    const { bot, sink, startWorker } = await setUp(oneRunningJobEach);
    const keys = bot.client.keys;
    const redis = bot.client.redis;
    const ada = await bot.enqueue(textRequest('ada', 'ada 1'));
    // The lease a crashed worker's run of this very job left, still live: it fills both limits.
    await redis.zadd(keys.running('user', 'ada'), Date.now() + 60_000, ada.jobId);
    await redis.zadd(keys.running('server', 'server-1'), Date.now() + 60_000, ada.jobId);
    const engine = await startWorker();
    await eventually(() => sink.outcome(ada.jobId) !== undefined);
    expect(sink.outcome(ada.jobId)).toMatchObject({ status: 'completed' });
    expect(engine.stats.prompts).toEqual(['ada 1']);
    for (const key of [
      keys.running('user', 'ada'),
      keys.running('server', 'server-1'),
      keys.waiting('user', 'ada'),
      keys.waiting('server', 'server-1'),
    ])
      expect(await redis.zscore(key, ada.jobId)).toBeNull();
  });
});

describe('jobs no worker can run', () => {
  it('answers at once with NO_WORKER_FOR_MODEL when no live worker holds the model', async () => {
    const { bot } = await setUp();
    const request = textRequest('ada', 'hello');
    const pretrain = { ...request, request: { ...request.request, model: 'pretrain' } } as JobRequest;
    await expect(bot.enqueue(pretrain)).rejects.toMatchObject({ code: 'NO_WORKER_FOR_MODEL' });
  });

  it('answers waiting jobs when no worker has held their model for queue.noWorkerGraceMs', async () => {
    const { bot, sink } = await setUp({ EMU_BOT_QUEUE__NO_WORKER_GRACE_MS: '300' });
    const job = await bot.enqueue(textRequest('ada', 'hello'));
    await bot.client.registry.withdraw('placeholder', ['instruct']);
    const outcome = await eventually(() => sink.outcome(job.jobId));
    expect(outcome).toMatchObject({ status: 'failed', code: 'NO_WORKER_FOR_MODEL' });
  });

  it('answers a job that waited past queue.waitTimeoutMs with JOB_TIMEOUT', async () => {
    const { bot, sink } = await setUp({ EMU_BOT_QUEUE__WAIT_TIMEOUT_MS: '200' });
    const job = await bot.enqueue(textRequest('ada', 'hello'));
    const outcome = await eventually(() => sink.outcome(job.jobId));
    expect(outcome).toMatchObject({ status: 'failed', code: 'JOB_TIMEOUT' });
    expect(sink.outcomes).toHaveLength(1);
  });
});
