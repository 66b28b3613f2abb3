import type { Command } from 'commander';
import { QueueMetrics } from '../../queue/index.js';
import { configuredModels, type EngineFactory, GpuWorker } from '../../worker/index.js';
import type { CommandContext, CommandRunner } from '../context.js';
import { type OperationsParts, serveOperations, untilStopped } from './bot.js';

/** Loads the engine once and starts a worker on it in this process. */
export async function startWorkerSide(
  context: CommandContext,
  engineFactory: EngineFactory,
  metrics: QueueMetrics,
): Promise<Omit<OperationsParts, 'metrics'>> {
  const { config } = context.loaded;
  const models = configuredModels(config);
  context.logger.info({ models }, 'loading the engine');
  const engine = await engineFactory(models, config, context.signal);
  const worker = context.lifecycle.add(
    'worker',
    await GpuWorker.start({ config, engine, logger: context.logger, metrics }),
  );
  return { queues: [], readiness: [() => worker.readiness()] };
}

export function registerWorkerCommand(
  program: Command,
  run: CommandRunner,
  engineFactory: EngineFactory,
): void {
  program
    .command('worker')
    .description('run a worker: load the models of worker.models once and run queued jobs on them')
    .addHelpText(
      'after',
      '\nRun one per GPU or GPU group. On SIGTERM it finishes its jobs within worker.drainMs and hands the rest back.',
    )
    .action(() =>
      run(async (context) => {
        const metrics = new QueueMetrics();
        const parts = await startWorkerSide(context, engineFactory, metrics);
        await serveOperations(context, { ...parts, metrics });
        await untilStopped(context.signal);
        return 0;
      }),
    );
}
