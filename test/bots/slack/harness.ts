import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { SlackAdapter } from '../../../src/bots/slack/index.js';
import type { Config } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/core/index.js';
import { type Engine, type ImageRequest, OnnxEngine, type TextRequest } from '../../../src/engine/index.js';
import { BotService } from '../../../src/queue/index.js';
import { GpuWorker } from '../../../src/worker/index.js';
import { queueTestConfig, queueTestEnv } from '../../helpers/queue.js';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.js';
import { SlackSimulation, simulatedIds } from '../../helpers/slack-simulation/index.js';

export const logger = pino({ level: process.env['EMU_BOT_TEST_LOG'] ?? 'silent' });
const bundles = join(packageRoot, 'test', 'fixtures', 'bundles');

export type TestEngine = Engine & { readonly drawings: ImageRequest[] };

/**
 * Loads the fixture bundles once per file: the real ONNX engine for text and for drawing
 * (tiny-pretrain's random image decoder makes real PNGs), recording the drawing requests as the
 * worker gave them, so tests can check the settings that reached the engine, and drawing them at
 * 64x64 in at most 4 steps.
 */
async function loadEngine(): Promise<TestEngine> {
  const engine: Engine = await OnnxEngine.load({
    bundles: { instruct: join(bundles, 'tiny-instruct'), pretrain: join(bundles, 'tiny-pretrain') },
    sessions: { devices: [{ kind: 'cpu' }], intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' },
    maxBatchRows: 8,
  });
  const drawings: ImageRequest[] = [];
  return {
    models: engine.models,
    drawings,
    generateText: (request, options) => engine.generateText(request, options),
    generateImage: async (request, options) => {
      drawings.push(request);
      // Drawn small and in a few steps: the tiny model at full size would hold the CPU for seconds.
      const settings = {
        ...request.settings,
        width: 64,
        height: 64,
        steps: Math.min(request.settings.steps, 4),
      };
      const result = await engine.generateImage({ ...request, settings }, options);
      // The fixture's safety checker has random weights: its verdict means nothing and varies
      // with the seed, so these tests take every drawing as clean.
      return { ...result, flagged: false };
    },
    close: () => engine.close(),
  };
}

function slackEnv(
  redis: RedisServer,
  simulation: SlackSimulation,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return queueTestEnv(redis, {
    EMU_BOT_SLACK__ENABLED: 'true',
    EMU_BOT_SLACK__API_URL: simulation.apiUrl,
    EMU_BOT_SLACK__BOT_TOKEN: simulatedIds.botToken,
    EMU_BOT_SLACK__APP_TOKEN: simulatedIds.appToken,
    EMU_BOT_SLACK__SIGNING_SECRET: simulatedIds.signingSecret,
    EMU_BOT_SLACK__UPDATE_INTERVAL_MS: '150',
    EMU_BOT_ATTACHMENTS__ALLOW_LOOPBACK: 'true',
    EMU_BOT_ATTACHMENTS__ALLOWED_HOSTS__SLACK: '[127.0.0.1]',
    EMU_BOT_MODELS__INSTRUCT__BUNDLE: join(bundles, 'tiny-instruct'),
    EMU_BOT_MODELS__PRETRAIN__BUNDLE: join(bundles, 'tiny-pretrain'),
    // Slack marks no channel NSFW, so drawing needs a rule that allows it.
    EMU_BOT_MODERATION__GENERATED_IMAGES: 'everywhere',
    ...overrides,
  });
}

export interface BotSide {
  readonly adapter: SlackAdapter;
  readonly service: BotService;
  close(): Promise<void>;
}

/** The bot side as `emu-bot bot` runs it: the bot service with the Slack adapter as its sink. */
async function startBotSide(config: Config): Promise<BotSide> {
  const adapter = new SlackAdapter(config, logger);
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

async function startWorker(config: Config, engine: Engine): Promise<GpuWorker> {
  // The worker owns and closes its engine; the file's engine outlives each test's worker.
  const borrowed: Engine = { ...engine, models: engine.models, close: async () => {} };
  return GpuWorker.start({ config, engine: borrowed, logger });
}

async function testConfig(env: Record<string, string>): Promise<Config> {
  return queueTestConfig(env);
}

/** A small real PNG to attach. */
export async function pngFile(name: string, colour: { r: number; g: number; b: number }) {
  const bytes = await sharp({ create: { width: 32, height: 24, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return { name, mimetype: 'image/png', bytes: new Uint8Array(bytes) };
}

/** A gate a test opens: engines wait on it, so a job is held running until the test says. */
export class Gate {
  readonly opened: Promise<void>;
  /** How many runs reached the gate (the job is running, held). */
  reached = 0;
  #open: () => void = () => {};

  constructor() {
    this.opened = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  open(): void {
    this.#open();
  }
}

/** The engine, whose text runs wait at the gate first: the job is held running until it opens. */
export function heldText<E extends Engine>(engine: E, gate: Gate): E {
  return {
    ...engine,
    async generateText(request, options) {
      gate.reached += 1;
      await gate.opened;
      return engine.generateText(request, options);
    },
  };
}

/**
 * The engine, with text runs that stream `parts` as deltas: all parts but the last, then a wait
 * at the gate (so the test sees the streamed edit while the job is still running), then the last.
 */
export function streamingText<E extends Engine>(engine: E, parts: readonly string[], gate: Gate): E {
  return {
    ...engine,
    async generateText(_request: TextRequest, options) {
      for (const part of parts.slice(0, -1)) options?.onText?.(part);
      gate.reached += 1;
      await gate.opened;
      options?.onText?.(parts.at(-1) ?? '');
      return { text: parts.join(''), tokenIds: [], promptTokens: 0, finishReason: 'eos' as const };
    },
  };
}

export interface SlackStack {
  /** The file's engine. */
  readonly engine: TestEngine;
  /**
   * Starts a test's Slack simulation, a worker (on `engine`, or the file's engine) and the bot
   * side; all are closed after the test, newest first.
   */
  setUp(
    overrides?: Record<string, string>,
    engine?: Engine,
  ): Promise<{ simulation: SlackSimulation; config: Config; bot: BotSide }>;
  /**
   * Closes the test's bot side and starts another, as a restart does: on the test's
   * configuration with `overrides` on top (the same Redis records).
   */
  restartBot(overrides?: Record<string, string>): Promise<BotSide>;
}

/**
 * The end-to-end stack of a test file: one Redis and one engine for the file, and per test what
 * `setUp` starts, closed after the test, newest first.
 */
export function useSlackStack(): SlackStack {
  let redis: RedisServer | undefined;
  let engine: TestEngine | undefined;
  let bot: BotSide | undefined;
  let current: { simulation: SlackSimulation; config: Config } | undefined;
  const closing: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(async () => {
    [redis, engine] = await Promise.all([startRedisServer(), loadEngine()]);
  });
  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });
  afterEach(async () => {
    await bot?.close();
    bot = undefined;
    current = undefined;
    for (const resource of closing.splice(0).reverse()) await resource.close();
  });
  const loaded = () => {
    if (redis === undefined || engine === undefined) throw new Error('the stack starts in beforeAll');
    return { redis, engine };
  };
  return {
    get engine() {
      return loaded().engine;
    },
    async setUp(overrides = {}, workerEngine = loaded().engine) {
      const simulation = await SlackSimulation.start({ minUpdateIntervalMs: 100 });
      closing.push({ close: () => simulation.stop() });
      const config = await testConfig(slackEnv(loaded().redis, simulation, overrides));
      closing.push(await startWorker(config, workerEngine));
      bot = await startBotSide(config);
      current = { simulation, config };
      return { simulation, config, bot };
    },
    async restartBot(overrides = {}) {
      if (current === undefined) throw new Error('restartBot comes after setUp');
      await bot?.close();
      const { simulation, config } = current;
      const prefix = { EMU_BOT_REDIS__KEY_PREFIX: config.redis.keyPrefix };
      bot = await startBotSide(
        await testConfig(slackEnv(loaded().redis, simulation, { ...prefix, ...overrides })),
      );
      return bot;
    },
  };
}
