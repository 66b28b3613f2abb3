import type { Command } from 'commander';
import { QueueMetrics } from '../../queue/index.js';
import type { EngineFactory } from '../../worker/index.js';
import type { CommandRunner } from '../context.js';
import { type AdapterFactory, serveOperations, startBotSide, untilStopped } from './bot.js';
import { startWorkerSide } from './worker.js';

export function registerStartCommand(
  program: Command,
  run: CommandRunner,
  engineFactory: EngineFactory,
  createAdapters: AdapterFactory,
): void {
  program
    .command('start')
    .description('run the bot side and a worker in one process (small installs, development)')
    .action(() =>
      run(async (context) => {
        const metrics = new QueueMetrics();
        const worker = await startWorkerSide(context, engineFactory, metrics);
        const bot = await startBotSide(context, createAdapters, metrics);
        await serveOperations(context, {
          metrics,
          queues: bot.queues,
          readiness: [...worker.readiness, ...bot.readiness],
        });
        await untilStopped(context.signal);
        return 0;
      }),
    );
}
