// One worker process of the queue benchmark: `node bench/queue/worker.mjs raw|emu`.
// raw: a plain BullMQ Worker whose processor does nothing. emu: emu-bot's GpuWorker on the
// no-op test engine. Both note when each job starts (the no-op engine's call, or the raw
// processor's entry) against the enqueue time the producer wrote, and send the figures to the
// parent over IPC when it asks.
import { Worker } from 'bullmq';
import { pino } from 'pino';
import { loadConfig } from '../../dist/config/index.js';
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

let close;
if (mode === 'raw') {
  const worker = new Worker(
    'raw',
    async (job) => {
      note(job.data.t);
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
  close = () => worker.close();
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
    process.send({ count, lastEnd, latencies });
    count = 0;
    latencies.length = 0;
  } else if (message === 'stop') {
    await close();
    process.exit(0);
  }
});
process.send('ready');
