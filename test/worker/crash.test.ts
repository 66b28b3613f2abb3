import type { Job } from 'bullmq';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BotService } from '../../src/queue/index.js';
import { useRedisServer } from '../helpers/lifecycle.js';
import { eventually, queueTestConfig, queueTestEnv, RecordingSink, textRequest } from '../helpers/queue.js';
import { type EmuBotProcess, spawnWorker } from '../helpers/worker-processes.js';

const logger = pino({ level: 'silent' });
const server = useRedisServer();

const runMs = 400;

async function setUp(overrides: Record<string, string> = {}) {
  const env = queueTestEnv(server, {
    EMU_BOT_WORKER__MODELS: 'instruct',
    EMU_BOT_WORKER__BATCH_SIZE: '1',
    EMU_BOT_WORKER__STALLED_INTERVAL_MS: '300',
    // A job may stall once from the kill and once more from a loaded test machine.
    EMU_BOT_WORKER__MAX_STALLED_COUNT: '3',
    ...overrides,
  });
  const config = await queueTestConfig(env);
  const sink = new RecordingSink();
  const bot = await BotService.start({ config, logger, sinks: [sink] });
  return { env, sink, bot };
}

/** The pid of the worker process that holds `jobId` (its BullMQ worker name is host:pid:random). */
async function holder(bot: BotService, jobId: string): Promise<number | undefined> {
  const job = (await bot.client.queue('instruct').getJob(jobId)) as Job | undefined;
  if (job === undefined || (await job.getState()) !== 'active' || job.processedBy === undefined)
    return undefined;
  return Number(job.processedBy.split(':')[1]);
}

describe('worker processes', () => {
  it('answers each job exactly once when its worker is killed with SIGKILL mid-job, 20 times over', async () => {
    const { env, sink, bot } = await setUp();
    const workers = new Map<number, EmuBotProcess>();
    const add = () => {
      const worker = spawnWorker(env, runMs);
      workers.set(worker.pid, worker);
      return worker;
    };
    try {
      await Promise.all([add().ready, add().ready]);
      const jobIds: string[] = [];
      const killed: number[] = [];
      for (let round = 0; round < 20; round++) {
        const job = await bot.enqueue(textRequest(`user${round}`, `round ${round}`));
        jobIds.push(job.jobId);
        const pid = await eventually(() => holder(bot, job.jobId));
        // Within the first half of the run, so the kill lands mid-job even on a loaded machine.
        await new Promise((resolve) => setTimeout(resolve, (Math.random() * runMs) / 2));
        workers.get(pid)?.child.kill('SIGKILL');
        workers.delete(pid);
        killed.push(pid);
        add();
        await eventually(() => sink.outcome(job.jobId), 20_000);
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(sink.outcomes).toHaveLength(20);
      expect(new Set(sink.outcomes.map((outcome) => outcome.jobId))).toEqual(new Set(jobIds));
      expect(sink.outcomes.every((outcome) => outcome.status === 'completed')).toBe(true);
      for (const [index, jobId] of jobIds.entries()) {
        const job = (await bot.client.queue('instruct').getJob(jobId)) as Job;
        expect(await job.getState()).toBe('completed');
        expect(Number(job.processedBy?.split(':')[1])).not.toBe(killed[index]);
      }
    } finally {
      for (const worker of workers.values()) worker.child.kill('SIGKILL');
      await bot.close();
    }
  }, 90_000);

  it('hands its job back on SIGTERM when it cannot finish within worker.drainMs, and exits 0', async () => {
    const { env, sink, bot } = await setUp({ EMU_BOT_WORKER__DRAIN_MS: '200' });
    const slow = spawnWorker(env, 60_000);
    let fast: EmuBotProcess | undefined;
    try {
      await slow.ready;
      const job = await bot.enqueue(textRequest('ada', 'hand me back'));
      await eventually(() => holder(bot, job.jobId));
      slow.child.kill('SIGTERM');
      expect(await slow.exited).toBe(0);
      fast = spawnWorker(env, 0);
      const outcome = await eventually(() => sink.outcome(job.jobId), 15_000);
      expect(outcome).toMatchObject({ status: 'completed' });
      const stored = (await bot.client.queue('instruct').getJob(job.jobId)) as Job;
      expect(stored.stalledCounter).toBe(0);
    } finally {
      slow.child.kill('SIGKILL');
      fast?.child.kill('SIGKILL');
      await bot.close();
    }
  });

  it('finishes its job on SIGTERM when it can, before exiting', async () => {
    const { env, sink, bot } = await setUp({ EMU_BOT_WORKER__DRAIN_MS: '5000' });
    const worker = spawnWorker(env, 500);
    try {
      await worker.ready;
      const job = await bot.enqueue(textRequest('ada', 'finish me'));
      await eventually(() => holder(bot, job.jobId));
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(await eventually(() => sink.outcome(job.jobId))).toMatchObject({ status: 'completed' });
    } finally {
      worker.child.kill('SIGKILL');
      await bot.close();
    }
  });
});
