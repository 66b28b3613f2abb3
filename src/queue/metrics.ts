import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const secondsBuckets = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/**
 * The process's Prometheus metrics (prom-client), served at /metrics. Bot processes count
 * rejections and report queue depth; workers count run times, tokens, images and failures.
 */
export class QueueMetrics {
  readonly registry = new Registry();
  readonly waitSeconds: Histogram<'model' | 'kind'>;
  readonly runSeconds: Histogram<'model' | 'kind'>;
  readonly tokens: Counter<'model'>;
  readonly images: Counter<'model'>;
  readonly failures: Counter<'code'>;
  readonly rejections: Counter<'code'>;
  readonly #queues = new Set<Queue>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'emu_bot_' });
    this.waitSeconds = new Histogram({
      name: 'emu_bot_job_wait_seconds',
      help: 'Time from enqueue to the start of a run',
      labelNames: ['model', 'kind'],
      buckets: secondsBuckets,
      registers,
    });
    this.runSeconds = new Histogram({
      name: 'emu_bot_job_run_seconds',
      help: 'Time a job spent in the engine',
      labelNames: ['model', 'kind'],
      buckets: secondsBuckets,
      registers,
    });
    this.tokens = new Counter({
      name: 'emu_bot_generated_tokens_total',
      help: 'Tokens generated (rate() gives tokens/s)',
      labelNames: ['model'],
      registers,
    });
    this.images = new Counter({
      name: 'emu_bot_generated_images_total',
      help: 'Images generated (rate() gives images/s)',
      labelNames: ['model'],
      registers,
    });
    this.failures = new Counter({
      name: 'emu_bot_job_failures_total',
      help: 'Jobs answered with an error, by error code',
      labelNames: ['code'],
      registers,
    });
    this.rejections = new Counter({
      name: 'emu_bot_enqueue_rejections_total',
      help: 'Requests refused at enqueue, by error code',
      labelNames: ['code'],
      registers,
    });
    const queues = this.#queues;
    new Gauge({
      name: 'emu_bot_queue_depth',
      help: 'Jobs per queue (model) and state',
      labelNames: ['model', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const queue of queues) {
          const counts = await queue.getJobCounts('prioritized', 'wait', 'delayed', 'active', 'failed');
          for (const [state, count] of Object.entries(counts)) this.set({ model: queue.name, state }, count);
        }
      },
    });
  }

  /** Reports these queues' depth on every scrape. */
  watchQueues(queues: Iterable<Queue>): void {
    for (const queue of queues) this.#queues.add(queue);
  }
}
