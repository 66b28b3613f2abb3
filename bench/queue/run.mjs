// The queue's benchmark: emu-bot's queue against raw BullMQ doing the same in the same run.
//
//   npm run bench:queue
//
// Five sides: raw BullMQ; raw+priority, raw BullMQ with priorities and emu-bot's job options
// (BullMQ's prioritized path, which emu-bot's fairness rides on: the honest baseline);
// raw+results, that baseline publishing each result once (the least the exactly-once
// replies cost); raw+gated, raw+results that also checks each job in one script before it runs
// (cancelled? its user at the running limit?), the least the running limits and
// cancellation add; and emu-bot. BENCH_MODES picks some. For 1, 2 and 4 worker processes, each
// side gets (1) dispatch throughput: the queue is paused, filled with jobs from 100 users,
// resumed, and drained by workers whose engine does nothing (jobs/s from resume to the last
// start), with the CPU time the workers and Redis spent on it per job; (2) enqueue-to-start
// latency at a steady 400 jobs/s (p50, p99), from the producer's clock before it enqueues to the
// start of the job in a worker. "emu" pays for what raw BullMQ does not do: validation, limits
// and fairness at enqueue, the start script (running limits, cancellation, re-runs), the
// batcher, timeouts, progress, and publishing each result once.
// Each figure is the median of BENCH_REPEATS runs (3); BENCH_WORKERS=1,2,4 and BENCH_JOBS=4000
// change the set-up; BENCH_PROFILE=DIR writes the workers' CPU profiles there;
// BENCH_REDIS_STATS=1 prints Redis's calls and time, socket reads and bytes per job for each drain.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../dist/config/index.js';
import { JobClient } from '../../dist/queue/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const throughputJobs = Number(process.env.BENCH_JOBS ?? 4000);
const latencyJobs = 800;
const latencyRate = 400;
const concurrency = 8;
const inFlight = 64;
const workerCounts = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const repeats = Number(process.env.BENCH_REPEATS ?? 3);
/** The sides, described at the top. */
const modes = (process.env.BENCH_MODES ?? 'raw,raw+priority,raw+results,raw+gated,emu').split(',');
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startRedis() {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
  const directory = mkdtempSync(join(tmpdir(), 'emu-bot-bench-'));
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    directory,
  ]);
  await new Promise((resolve) =>
    child.stdout.on('data', (chunk) => String(chunk).includes('Ready') && resolve()),
  );
  const stop = () => {
    child.kill();
    rmSync(directory, { recursive: true, force: true });
  };
  return { port, stop };
}

function env(port, prefix) {
  return {
    ...process.env,
    BENCH_REDIS_PORT: String(port),
    BENCH_CONCURRENCY: String(concurrency),
    EMU_BOT_REDIS__URL: `redis://127.0.0.1:${port}`,
    EMU_BOT_REDIS__KEY_PREFIX: prefix,
    EMU_BOT_LOG__LEVEL: 'silent',
    EMU_BOT_WORKER__MODELS: 'instruct',
    EMU_BOT_WORKER__BATCH_SIZE: String(concurrency),
    EMU_BOT_WORKER__BATCH_WINDOW_MS: '0',
    EMU_BOT_QUEUE__LIMITS__USER_QUEUED: '100000',
    EMU_BOT_QUEUE__LIMITS__SERVER_QUEUED: '100000',
    EMU_BOT_QUEUE__LIMITS__USER_RUNNING: '1000',
    EMU_BOT_QUEUE__LIMITS__SERVER_RUNNING: '1000',
  };
}

async function startWorkers(mode, count, environment) {
  const workers = Array.from({ length: count }, () =>
    fork(join(here, 'worker.mjs'), [mode], {
      env: environment,
      stdio: 'inherit',
      execArgv:
        process.env.BENCH_PROFILE === undefined
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`],
    }),
  );
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
  return workers;
}

const report = (workers) =>
  Promise.all(
    workers.map((worker) => {
      const answer = new Promise((resolve) => worker.once('message', resolve));
      worker.send('report');
      return answer;
    }),
  );

/**
 * The options emu-bot gives every job (src/queue/client.ts, with the default configuration), so
 * that "raw+priority" is BullMQ doing what emu-bot asks of it: a priority, retries with backoff,
 * and completed jobs kept for the result TTL.
 */
const emuJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 86_400 },
  removeOnFail: { age: 86_400 },
};

/** What each side does to enqueue one job; `t` is the producer's clock before enqueueing. */
async function producer(mode, port, prefix) {
  if (mode !== 'emu') {
    const queue = new Queue('raw', { connection: { host: '127.0.0.1', port }, prefix: '{raw}' });
    return {
      queue,
      enqueue: (index, t) =>
        queue.add(
          'job',
          { t, user: index % 100 },
          mode === 'raw' ? {} : { ...emuJobOptions, priority: 1 + (index % 100) },
        ),
      close: () => queue.close(),
    };
  }
  const { config } = await loadConfig({ env: env(port, prefix) });
  const client = new JobClient(config);
  const settings = { maxNewTokens: 8, numBeams: 1, lengthPenalty: 0, minLength: 1, repetitionPenalty: 1 };
  return {
    queue: client.queue('instruct'),
    enqueue: (index, t) =>
      client.enqueue({
        kind: 'text',
        origin: { platform: 'bench', userId: `user${index % 100}`, serverId: 'bench', reference: '' },
        request: { model: 'instruct', prompt: String(t), images: [], settings },
      }),
    close: () => client.close(),
  };
}

async function runMany(total, enqueue) {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await enqueue(next++, Date.now());
    }),
  );
}

/** CPU time so far, in microseconds: the workers' together, and Redis's (user and system). */
async function cpuMicros(workers) {
  const figures = await report(workers);
  const info = await probe.info('cpu');
  const seconds = (name) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))[1]);
  return {
    workers: figures.reduce((sum, entry) => sum + entry.cpuMicros, 0),
    redis: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6,
  };
}

async function measure(mode, workerCount, port) {
  const prefix = `bench-${mode.replace('+', '-')}-${workerCount}`;
  const workerMode = {
    raw: 'raw',
    'raw+priority': 'raw',
    'raw+results': 'raw-results',
    'raw+gated': 'raw-gated',
    emu: 'emu',
  }[mode];
  const workers = await startWorkers(workerMode, workerCount, env(port, prefix));
  const side = await producer(mode, port, prefix);
  try {
    await runMany(200, side.enqueue); // warm-up
    await sleep(500);
    await report(workers);

    await side.queue.pause();
    await runMany(throughputJobs, side.enqueue);
    if (redisStats) await probe.config('RESETSTAT');
    const cpuBefore = await cpuMicros(workers);
    const resumed = Date.now();
    await side.queue.resume();
    let done = 0;
    let lastEnd = 0;
    while (done < throughputJobs) {
      await sleep(100);
      for (const figures of await report(workers)) {
        done += figures.count;
        lastEnd = Math.max(lastEnd, figures.lastEnd);
      }
    }
    const jobsPerSecond = throughputJobs / ((lastEnd - resumed) / 1000);
    const cpuAfter = await cpuMicros(workers);
    const workerCpu = (cpuAfter.workers - cpuBefore.workers) / throughputJobs;
    const redisCpu = (cpuAfter.redis - cpuBefore.redis) / throughputJobs;
    if (redisStats)
      printRedisStats(mode, workerCount, (await probe.info('commandstats')) + (await probe.info('stats')));

    const latencies = [];
    const burst = 8;
    const started = Date.now();
    for (let sent = 0; sent < latencyJobs; sent += burst) {
      const due = started + (sent / latencyRate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await Promise.all(Array.from({ length: burst }, (_, index) => side.enqueue(sent + index, Date.now())));
    }
    while (latencies.length < latencyJobs) {
      await sleep(100);
      for (const figures of await report(workers)) latencies.push(...figures.latencies);
    }
    return {
      jobsPerSecond,
      workerCpu,
      redisCpu,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
    };
  } finally {
    await side.close();
    for (const worker of workers) worker.send('stop');
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
  }
}

/** Redis's calls and time per job by command, and its socket reads and bytes, over one drain. */
function printRedisStats(mode, workerCount, stats) {
  const rows = [...stats.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)]
    .map(([, command, calls, usec]) => ({ command, calls: Number(calls), usec: Number(usec) }))
    .filter((row) => row.calls >= throughputJobs / 100)
    .sort((a, b) => b.usec - a.usec);
  console.log(`Redis per job, ${mode}, ${workerCount} worker(s) (commands inside scripts count twice):`);
  for (const row of rows)
    console.log(
      `  ${row.command.padEnd(12)} ${(row.calls / throughputJobs).toFixed(2).padStart(6)} calls ${(row.usec / throughputJobs).toFixed(1).padStart(6)} us`,
    );
  // Socket reads and writes: each read serves what a client wrote at once (one or more commands).
  const counter = (name) => Number(stats.match(new RegExp(`${name}:(\\d+)`))?.[1] ?? 0) / throughputJobs;
  console.log(
    `  socket reads ${counter('total_reads_processed').toFixed(2)}, writes ${counter('total_writes_processed').toFixed(2)}, bytes in ${counter('total_net_input_bytes').toFixed(0)}, out ${counter('total_net_output_bytes').toFixed(0)} per job`,
  );
}

const redis = await startRedis();
// An interrupted run stops its Redis too, which would otherwise outlive it.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    redis.stop();
    process.exit(130);
  });
/** The bench's own connection: flushes between runs, CPU and command statistics. */
const probe = new Redis(redis.port);
const redisStats = process.env.BENCH_REDIS_STATS === '1';
try {
  const rows = [];
  for (const workerCount of workerCounts) {
    const runs = Object.fromEntries(modes.map((mode) => [mode, []]));
    // The sides alternate, so that a change in the machine's load hits them alike.
    for (let repeat = 0; repeat < repeats; repeat++) {
      for (const mode of modes) {
        await probe.flushall();
        runs[mode].push(await measure(mode, workerCount, redis.port));
      }
    }
    for (const mode of modes) {
      const pick = (key) => median(runs[mode].map((run) => run[key]));
      rows.push({
        workerCount,
        mode,
        jobsPerSecond: pick('jobsPerSecond'),
        p50: pick('p50'),
        p99: pick('p99'),
        workerCpu: pick('workerCpu'),
        redisCpu: pick('redisCpu'),
      });
    }
  }
  console.log(
    `\nqueue dispatch with a no-op engine, medians of ${repeats} runs: ${throughputJobs} jobs drained; latency at ${latencyRate} jobs/s; concurrency ${concurrency} per worker\n`,
  );
  const row = (workerCount, mode) =>
    rows.find((entry) => entry.workerCount === workerCount && entry.mode === mode);
  const times = (value) => `${value.toFixed(2)}x`;
  console.log(
    'workers | side         | jobs/s | p50 ms | p99 ms | raw/side jobs/s | raw+priority/side | side/raw p50 | side/raw p99 | worker CPU us/job | Redis CPU us/job | CPU side/raw+priority',
  );
  for (const workerCount of workerCounts) {
    const raw = row(workerCount, 'raw');
    const prioritized = row(workerCount, 'raw+priority');
    for (const mode of modes) {
      const side = row(workerCount, mode);
      console.log(
        [
          String(workerCount).padStart(7),
          mode.padEnd(12),
          side.jobsPerSecond.toFixed(0).padStart(6),
          String(side.p50).padStart(6),
          String(side.p99).padStart(6),
          (raw === undefined ? '-' : times(raw.jobsPerSecond / side.jobsPerSecond)).padStart(15),
          (prioritized === undefined ? '-' : times(prioritized.jobsPerSecond / side.jobsPerSecond)).padStart(
            17,
          ),
          (raw === undefined ? '-' : times(side.p50 / Math.max(1, raw.p50))).padStart(12),
          (raw === undefined ? '-' : times(side.p99 / Math.max(1, raw.p99))).padStart(12),
          side.workerCpu.toFixed(0).padStart(17),
          side.redisCpu.toFixed(0).padStart(16),
          (prioritized === undefined
            ? '-'
            : times((side.workerCpu + side.redisCpu) / (prioritized.workerCpu + prioritized.redisCpu))
          ).padStart(21),
        ].join(' | '),
      );
    }
  }
} finally {
  probe.disconnect();
  redis.stop();
}
