import type { Queue } from 'bullmq';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import {
  type BotAdapter,
  BotService,
  QueueMetrics,
  type ReadinessReport,
  startOperationsServer,
} from '../../queue/index.js';
import type { CommandContext, CommandRunner } from '../context.js';

/** Creates the platform adapters a bot process runs (Discord, Slack), from the configuration. */
export type AdapterFactory = (config: Config, logger: Logger) => readonly BotAdapter[];

export interface OperationsParts {
  readonly metrics: QueueMetrics;
  readonly queues: readonly Queue[];
  readonly readiness: ReadonlyArray<() => Promise<ReadinessReport>>;
}

/** Starts the bot side in this process: adapters, result delivery, status updates, sweeps. */
export async function startBotSide(
  context: CommandContext,
  createAdapters: AdapterFactory,
  metrics: QueueMetrics,
): Promise<OperationsParts> {
  const { config } = context.loaded;
  if (config.attachments.allowLoopback) {
    context.logger.warn(
      'attachments.allowLoopback is true: attachments may be fetched from loopback over plain http (test simulations only)',
    );
  }
  const adapters = createAdapters(config, context.logger);
  const service = context.lifecycle.add(
    'bot service',
    await BotService.start({ config, logger: context.logger, sinks: adapters, metrics }),
  );
  for (const adapter of adapters) {
    context.lifecycle.add(`${adapter.platform} adapter`, adapter);
    await adapter.start(service, context.signal);
  }
  context.logger.info({ adapters: adapters.map((adapter) => adapter.platform) }, 'bot side running');
  return { metrics, queues: [...service.client.queues.values()], readiness: [() => service.readiness()] };
}

/** Serves /livez, /readyz, /metrics and the admin view on `operations.host:port` unless it is null. */
export async function serveOperations(context: CommandContext, parts: OperationsParts): Promise<void> {
  const { config } = context.loaded;
  if (config.operations.port === null) return;
  const server = await startOperationsServer({
    host: config.operations.host,
    port: config.operations.port,
    registry: parts.metrics.registry,
    queues: parts.queues,
    adminToken: config.admin.token,
    readiness: parts.readiness,
    logger: context.logger,
  });
  context.lifecycle.add('operations server', server);
  context.logger.info({ url: server.url }, 'operations endpoints: /livez /readyz /metrics /admin/queues');
}

/** Resolves when the process is asked to stop, after the lifecycle has closed what it owns. */
export function untilStopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export function registerBotCommand(
  program: Command,
  run: CommandRunner,
  createAdapters: AdapterFactory,
): void {
  program
    .command('bot')
    .description('run the bot side without a worker: platform adapters, result delivery, queue status')
    .addHelpText(
      'after',
      '\nServes /livez, /readyz, /metrics and /admin/queues on operations.host:operations.port. Runs until SIGINT or SIGTERM.',
    )
    .action(() =>
      run(async (context) => {
        const parts = await startBotSide(context, createAdapters, new QueueMetrics());
        await serveOperations(context, parts);
        await untilStopped(context.signal);
        return 0;
      }),
    );
}
