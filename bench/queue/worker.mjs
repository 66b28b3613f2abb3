// One worker process of the queue benchmark:
// `node bench/queue/worker.mjs raw|raw-results|raw-gated|emu`. raw: a plain BullMQ Worker whose
// processor does nothing; raw-results: the same, publishing each result once; raw-gated: the
// same again, checking each job in one script before it runs (both below). emu: emu-bot's
// GpuWorker on the no-op test engine. All note when each job starts (the no-op engine's call, or
// the raw processor's entry) against the enqueue time the producer wrote, and send the figures
// and the process's CPU time to the parent over IPC when it asks.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../dist/config/index.js';
import { BatchedScript } from '../../dist/queue/lua-script.js';
import { GpuWorker } from '../../dist/worker/index.js';
import { createTestEngine } from '../../test/helpers/engines.mjs';

const mode = process.argv[2];
const concurrency = Number(process.env.BENCH_CONCURRENCY);
const latencies = [];
let count = 0;
let lastEnd = 0;

const note = (enqueuedAt) => {
  latencies.push(Date.now() - enqueuedAt);
  count += 1;
  lastEnd = Date.now();
};

/**
 * The least that answering exactly once takes (raw+results): each job's result enters a results
 * stream in one script that also sets the job's published record, only if it was not set (and,
 * for raw+gated, stops counting the job as running). The jobs a worker finishes in one turn of
 * the event loop share one script call (`BatchedScript`), as emu-bot's do.
 */
const publishOnce = new BatchedScript(
  'bench-publish-once',
  `
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 100000, '*', 'job', ARGV[1])
  if KEYS[3] then redis.call('ZREM', KEYS[3], ARGV[1]) end
end
return 1
`,
);

/**
 * The least that checking a job before it runs takes (raw+gated): one script per turn that
 * refuses a cancelled job and counts the job as running unless its user is at a running limit.
 */
const gate = new BatchedScript(
  'bench-gate',
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZCARD', KEYS[2]) >= 1000 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`,
);

let close;
if (mode === 'raw' || mode === 'raw-results' || mode === 'raw-gated') {
  const results = mode === 'raw' ? undefined : new Redis(Number(process.env.BENCH_REDIS_PORT));
  const worker = new Worker(
    'raw',
    async (job) => {
      const running = `{raw}:user:${job.data.user}:running`;
      if (mode === 'raw-gated')
        await gate.run(results, [`{raw}:job:${job.id}:cancelled`, running], [job.id, Date.now() + 60_000]);
      note(job.data.t);
      if (results !== undefined)
        await publishOnce.run(
          results,
          [`{raw}:job:${job.id}:published`, '{raw}:results', ...(mode === 'raw-gated' ? [running] : [])],
          [job.id],
        );
    },
    {
      connection: {
        host: '127.0.0.1',
        port: Number(process.env.BENCH_REDIS_PORT),
        maxRetriesPerRequest: null,
      },
      prefix: '{raw}',
      concurrency,
    },
  );
  await worker.waitUntilReady();
  close = async () => {
    await worker.close();
    results?.disconnect();
  };
} else {
  const { config } = await loadConfig({ env: process.env });
  const engine = createTestEngine({ models: ['instruct'] });
  const generateText = engine.generateText.bind(engine);
  engine.generateText = (request, options) => {
    note(Number(request.prompt));
    return generateText(request, options);
  };
  const worker = await GpuWorker.start({ config, engine, logger: pino({ level: 'silent' }) });
  close = () => worker.close();
}

process.on('message', async (message) => {
  if (message === 'report') {
    const { user, system } = process.cpuUsage();
    process.send({ count, lastEnd, latencies, cpuMicros: user + system });
    count = 0;
    latencies.length = 0;
  } else if (message === 'stop') {
    await close();
    process.exit(0);
  }
});
// A worker whose bench went away (interrupted) goes too.
process.on('disconnect', () => process.exit(0));
process.send('ready');
