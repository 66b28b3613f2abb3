import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { DiscordAdapter } from '../../../src/bots/discord/index.js';
import type { Config } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/core/index.js';
import { type Engine, OnnxEngine, type TextRequest } from '../../../src/engine/index.js';
import { BotService } from '../../../src/queue/index.js';
import { GpuWorker } from '../../../src/worker/index.js';
import type { DiscordSimulation } from '../../helpers/discord-simulation/index.js';
import { queueTestConfig, queueTestEnv } from '../../helpers/queue.js';
import type { RedisServer } from '../../helpers/redis-server.js';
import { withTestDrawing } from '../../helpers/slack-simulation/drawing-engine.js';

export const logger = pino({ level: process.env['EMU_BOT_TEST_LOG'] ?? 'silent' });
const bundles = join(packageRoot, 'test', 'fixtures', 'bundles');

export type TestEngine = ReturnType<typeof withTestDrawing> & {
  /** Text requests as the worker passed them. */
  readonly texts: TextRequest[];
  /** Makes drawings wait until `release()` (or their cancellation), to act while a job runs. */
  hold(): void;
  release(): void;
};

/**
 * The real ONNX engine on the fixture bundles for text; drawing (which the ONNX engine cannot do
 * yet) goes to the shared honest stand-in that returns a real PNG whose colour follows the seed.
 */
export async function loadEngine(): Promise<TestEngine> {
  const onnx: Engine = await OnnxEngine.load({
    bundles: { instruct: join(bundles, 'tiny-instruct'), pretrain: join(bundles, 'tiny-pretrain') },
    sessions: { devices: [{ kind: 'cpu' }], intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' },
    maxBatchRows: 8,
  });
  const drawing = withTestDrawing(onnx);
  const texts: TextRequest[] = [];
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  return {
    ...drawing,
    models: drawing.models,
    texts,
    generateText(request, options) {
      texts.push(request);
      return drawing.generateText(request, options);
    },
    async generateImage(request, options = {}) {
      options.onProgress?.({ step: 0, totalSteps: request.settings.steps });
      if (gate !== undefined) {
        const { signal } = options;
        await Promise.race([
          gate.promise,
          new Promise((_, reject) =>
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
          ),
        ]);
      }
      return drawing.generateImage(request, options);
    },
    hold() {
      let open = () => {};
      const promise = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
  };
}

export async function discordConfig(
  redis: RedisServer,
  simulation: DiscordSimulation,
  overrides: Record<string, string> = {},
): Promise<Config> {
  return queueTestConfig(
    queueTestEnv(redis, {
      EMU_BOT_DISCORD__ENABLED: 'true',
      EMU_BOT_DISCORD__TOKEN: simulation.token,
      EMU_BOT_DISCORD__API_URL: simulation.apiUrl,
      EMU_BOT_DISCORD__CDN_URL: simulation.cdnUrl,
      EMU_BOT_DISCORD__UPDATE_INTERVAL_MS: '100',
      // Answers of the tiny random model are gibberish; a few tokens prove the plumbing.
      EMU_BOT_QUEUE__PAYLOAD__MAX_NEW_TOKENS: '1024',
      EMU_BOT_ATTACHMENTS__ALLOW_LOOPBACK: 'true',
      EMU_BOT_ATTACHMENTS__ALLOWED_HOSTS__DISCORD: '[127.0.0.1]',
      EMU_BOT_MODELS__INSTRUCT__BUNDLE: join(bundles, 'tiny-instruct'),
      EMU_BOT_MODELS__PRETRAIN__BUNDLE: join(bundles, 'tiny-pretrain'),
      ...overrides,
    }),
  );
}

export interface BotSide {
  readonly adapter: DiscordAdapter;
  readonly service: BotService;
  close(): Promise<void>;
}

/** The bot side as `emu-bot bot` runs it: the bot service with the Discord adapter as its sink. */
export async function startBotSide(config: Config): Promise<BotSide> {
  const adapter = new DiscordAdapter(config, logger);
  const service = await BotService.start({ config, logger, sinks: [adapter] });
  const controller = new AbortController();
  await adapter.start(service, controller.signal);
  return {
    adapter,
    service,
    async close() {
      controller.abort();
      await adapter.close();
      await service.close();
    },
  };
}

export async function startWorker(config: Config, engine: Engine): Promise<GpuWorker> {
  // The worker owns and closes its engine; the file's engine outlives each test's worker.
  const borrowed: Engine = { ...engine, models: engine.models, close: async () => {} };
  return GpuWorker.start({ config, engine: borrowed, logger });
}

/** A small real PNG. */
export async function png(colour: { r: number; g: number; b: number }): Promise<Uint8Array> {
  const bytes = await sharp({ create: { width: 32, height: 24, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return new Uint8Array(bytes);
}
