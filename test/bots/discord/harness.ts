import { join } from 'node:path';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { DiscordAdapter } from '../../../src/bots/discord/index.js';
import type { Config } from '../../../src/config/index.js';
import { packageRoot } from '../../../src/core/index.js';
import { type Engine, type ImageRequest, OnnxEngine, type TextRequest } from '../../../src/engine/index.js';
import { BotService } from '../../../src/queue/index.js';
import { GpuWorker } from '../../../src/worker/index.js';
import { DiscordSimulation, type SimMessage } from '../../helpers/discord-simulation/index.js';
import { queueTestConfig, queueTestEnv } from '../../helpers/queue.js';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.js';

export const logger = pino({ level: process.env['EMU_BOT_TEST_LOG'] ?? 'silent' });
const bundles = join(packageRoot, 'test', 'fixtures', 'bundles');

export type TestEngine = Engine & {
  /** Text requests as the worker passed them. */
  readonly texts: TextRequest[];
  /** Image requests as the worker passed them. */
  readonly drawings: ImageRequest[];
  /** Makes drawings wait until `release()` (or their cancellation), to act while a job runs. */
  hold(): void;
  release(): void;
  /** Whether drawings come back flagged by the safety checker (by default not). */
  flagDrawings(on: boolean): void;
  /**
   * The next text answer streams `chunks` one at a time, each after `advance()`, then ends with
   * `tail` added: to watch the waiting message grow without depending on timing.
   */
  scriptAnswer(chunks: readonly string[], tail: string): { advance(): void };
};

/**
 * The real ONNX engine on the fixture bundles, for text and for drawing (tiny-pretrain has a tiny
 * random image decoder, so drawings are real PNGs made in milliseconds), with hooks to hold a
 * drawing, to stream a scripted answer and to mark drawings as flagged.
 */
export async function loadEngine(): Promise<TestEngine> {
  const onnx: Engine = await OnnxEngine.load({
    bundles: { instruct: join(bundles, 'tiny-instruct'), pretrain: join(bundles, 'tiny-pretrain') },
    sessions: { devices: [{ kind: 'cpu' }], intraOpThreads: 1, interOpThreads: 1, graphOptimization: 'all' },
    maxBatchRows: 8,
  });
  const texts: TextRequest[] = [];
  const drawings: ImageRequest[] = [];
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let flagged = false;
  let script:
    | { chunks: readonly string[]; tail: string; steps: Array<() => void>; next: Promise<void>[] }
    | undefined;
  const aborted = (signal: AbortSignal | undefined) =>
    new Promise<never>((_, reject) =>
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
    );
  return {
    models: onnx.models,
    texts,
    drawings,
    async generateText(request, options = {}) {
      texts.push(request);
      const scripted = script;
      if (scripted === undefined) return onnx.generateText(request, options);
      script = undefined;
      for (const [index, chunk] of scripted.chunks.entries()) {
        options.onText?.(chunk);
        await Promise.race([scripted.next[index], aborted(options.signal)]);
      }
      const text = `${scripted.chunks.join('')}${scripted.tail}`;
      return { text, tokenIds: [], promptTokens: 0, finishReason: 'eos' };
    },
    async generateImage(request, options = {}) {
      drawings.push(request);
      options.onProgress?.({ step: 0, totalSteps: 32 + request.settings.steps });
      if (gate !== undefined) await Promise.race([gate.promise, aborted(options.signal)]);
      // Drawn for real, but small and in a few steps, to keep the tests quick on a CPU.
      const settings = {
        ...request.settings,
        width: 64,
        height: 64,
        steps: Math.min(request.settings.steps, 4),
      };
      const result = await onnx.generateImage({ ...request, settings }, options);
      // The fixture's safety checker has random weights, so its verdict means nothing and varies
      // with the seed: the tests decide it.
      return { ...result, flagged };
    },
    close: () => onnx.close(),
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
    flagDrawings(on) {
      flagged = on;
    },
    scriptAnswer(chunks, tail) {
      const steps: Array<() => void> = [];
      const next = chunks.map(
        () =>
          new Promise<void>((resolve) => {
            steps.push(resolve);
          }),
      );
      script = { chunks, tail, steps, next };
      let advanced = 0;
      return {
        advance() {
          steps[advanced]?.();
          advanced += 1;
        },
      };
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

export interface DiscordStack {
  /** The file's engine (loaded before the first test). */
  readonly engine: TestEngine;
  /** A simulation, a worker and the bot side for one test, closed after it. */
  setUp(
    overrides?: Record<string, string>,
  ): Promise<{ simulation: DiscordSimulation; config: Config; bot: BotSide }>;
  /** Stops this test's bot side and starts another on the same configuration, as a restart does. */
  restartBot(config: Config): Promise<BotSide>;
}

/**
 * The end-to-end stack of a test file: one Redis and one engine for the file, and per test what
 * `setUp` starts, closed after the test, newest first, with the engine's held drawings released
 * and its safety verdict reset.
 */
export function useDiscordStack(): DiscordStack {
  let redis: RedisServer | undefined;
  let engine: TestEngine | undefined;
  let bot: BotSide | undefined;
  const closing: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(async () => {
    [redis, engine] = await Promise.all([startRedisServer(), loadEngine()]);
  });
  afterAll(async () => {
    await engine?.close();
    await redis?.stop();
  });
  afterEach(async () => {
    engine?.release();
    engine?.flagDrawings(false);
    await bot?.close();
    bot = undefined;
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
    async setUp(overrides = {}) {
      const simulation = await DiscordSimulation.start();
      closing.push(simulation);
      const config = await discordConfig(loaded().redis, simulation, overrides);
      closing.push(await startWorker(config, loaded().engine));
      bot = await startBotSide(config);
      return { simulation, config, bot };
    },
    async restartBot(config) {
      await bot?.close();
      bot = await startBotSide(config);
      return bot;
    },
  };
}

/** The bot's final answer: the message once it no longer waits or streams. */
export const answered = (message: SimMessage | undefined) =>
  message !== undefined &&
  message.content !== '' &&
  !/^(⏳|✍️)/u.test(message.content) &&
  !message.content.endsWith('▌') &&
  message.components.length === 0
    ? message
    : undefined;
