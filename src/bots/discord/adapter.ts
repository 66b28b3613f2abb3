import { join } from 'node:path';
import { type Client, Events, REST } from 'discord.js';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuditLog, Moderator } from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { EmuBotError } from '../../core/index.js';
import { EmuTokenizer, readManifest } from '../../engine/index.js';
import { AttachmentDownloader, createPixelsDecoder } from '../../media/index.js';
import {
  type BotAdapter,
  createRedisConnection,
  type JobOutcome,
  type JobSubmitter,
  type JobUpdate,
  QueueKeys,
  WaitEstimator,
  WorkerRegistry,
} from '../../queue/index.js';
import { ButtonHandler } from './button-handler.js';
import { createClient } from './client.js';
import { deliverOutcome } from './delivery.js';
import { DrawingStore } from './drawings.js';
import { InteractionHandler } from './interaction-handler.js';
import { JobViews } from './job-views.js';
import { MessageHandler } from './message-handler.js';
import { QueueStatusReader } from './queue-status.js';
import { DiscordReplies } from './replies.js';
import { Requester } from './requester.js';
import { RestLanes } from './rest-lanes.js';
import { WaitingMessages } from './waiting-messages.js';

const dayMs = 86_400_000;

/**
 * Emu on Discord: the gateway client (mentions, threads, DMs, commands, buttons) on the event
 * side, and the reply sink that posts what the queue answers. Replies are posted from each job's
 * reference over REST, so any bot process can post them, and buttons work after a restart.
 */
export class DiscordAdapter implements BotAdapter {
  readonly platform = 'discord';
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #client: Client;
  readonly #redis: Redis;
  readonly #replies: DiscordReplies;
  readonly #lanes: RestLanes;
  readonly #webhookLanes: RestLanes;
  readonly #drawings: DrawingStore;
  readonly #views: JobViews;
  readonly #waiting: WaitingMessages;
  readonly #downloader: AttachmentDownloader;
  readonly #audit: AuditLog | undefined;
  #queue: JobSubmitter | undefined;
  #closing: Promise<void> | undefined;

  constructor(config: Config, logger: Logger) {
    const token = config.discord.token;
    if (token === undefined)
      throw new EmuBotError('CONFIG_INVALID', 'discord.enabled is true, but discord.token is not set');
    this.#config = config;
    this.#logger = logger.child({ platform: 'discord' });
    this.#client = createClient(config.discord);
    // Set now, not at login: deliveries may arrive before the gateway is connected.
    this.#client.rest.setToken(token.reveal());
    this.#redis = createRedisConnection(config.redis);
    this.#redis.on('error', (error) => this.#logger.warn({ err: error }, 'Redis (Discord adapter)'));
    this.#lanes = new RestLanes(this.#client.rest);
    // Interaction webhooks are authorised by their token and not counted against the bot's global
    // limit: a client of their own (with discord.js's default 50 a second) keeps them out of the
    // bot's queue.
    const webhooks = new REST({ api: config.discord.apiUrl, cdn: config.discord.cdnUrl });
    this.#webhookLanes = new RestLanes(webhooks, { reserve: 0 });
    this.#replies = new DiscordReplies({
      rest: this.#client.rest,
      webhooks,
      lanes: this.#lanes,
      webhookLanes: this.#webhookLanes,
    });
    const keys = new QueueKeys(config.redis.keyPrefix);
    this.#drawings = new DrawingStore(this.#redis, keys.bullPrefix, config.discord.buttonTtlDays * dayMs);
    this.#waiting = new WaitingMessages(this.#redis, keys.bullPrefix, dayMs);
    this.#views = new JobViews(this.#replies, config.discord.updateIntervalMs, {
      remember: (jobId, messageId) => this.#waiting.save(jobId, messageId),
    });
    const { attachments } = config;
    this.#downloader = new AttachmentDownloader({
      ...attachments,
      maxConcurrent: attachments.maxConcurrentDownloads,
    });
    this.#audit =
      config.audit.directory === null
        ? undefined
        : new AuditLog({ ...config.audit, directory: config.audit.directory });
  }

  async start(queue: JobSubmitter, signal: AbortSignal): Promise<void> {
    this.#queue = queue;
    const config = this.#config;
    const tokenizer = await EmuTokenizer.fromFile(join(config.models.instruct.bundle, 'tokenizer.json'));
    // "step 23/50" counts denoising steps: the drawing model's regression steps come first.
    await readManifest(config.models.pretrain.bundle)
      .then((manifest) => {
        this.#views.regressionSteps = manifest.model.image_tokens;
      })
      .catch((error: unknown) =>
        this.#logger.debug({ err: error }, 'drawing bundle unreadable here: Emu regresses 32 steps'),
      );
    const requester = new Requester({
      config,
      moderator: new Moderator(config.moderation),
      fetcher: this.#downloader,
      decoder: createPixelsDecoder(config.media),
      counter: { countTokens: (text) => tokenizer.encode(text).length },
      audit: this.#audit,
      queue: () => this.#submitter(),
    });
    const keys = new QueueKeys(config.redis.keyPrefix);
    const registry = new WorkerRegistry(this.#redis, keys);
    const status = new QueueStatusReader(
      this.#redis,
      keys,
      new WaitEstimator(this.#redis, keys, registry),
      registry,
    );
    const common = {
      settings: config.discord,
      requester,
      views: this.#views,
      replies: this.#replies,
      logger: this.#logger,
    };
    const buttons = new ButtonHandler({
      ...common,
      drawings: this.#drawings,
      queue: () => this.#submitter(),
    });
    const interactions = new InteractionHandler({ ...common, drawings: this.#drawings, status, buttons });
    const messages = new MessageHandler({ ...common, lanes: this.#lanes });
    const report = (what: string) => (error: unknown) => this.#logger.error({ err: error }, `${what} failed`);
    this.#client.on(
      Events.MessageCreate,
      (message) => void messages.handle(message).catch(report('message')),
    );
    this.#client.on(
      Events.InteractionCreate,
      (interaction) => void interactions.handle(interaction).catch(report('interaction')),
    );
    this.#client.on(Events.Error, report('Discord client'));
    this.#client.on(Events.ShardResume, () => this.#logger.info('Discord gateway resumed'));
    const ready = new Promise<void>((resolve) => this.#client.once(Events.ClientReady, () => resolve()));
    const stop = () => void this.close();
    signal.addEventListener('abort', stop, { once: true });
    await this.#client.login(this.#config.discord.token?.reveal());
    await ready;
    this.#logger.info({ user: this.#client.user?.tag }, 'Discord connected');
  }

  async deliver(outcome: JobOutcome, signal: AbortSignal): Promise<void> {
    // A waiting message posted after the job was queued, by this process or another one.
    const waitingMessageId =
      (await this.#views.finish(outcome.jobId)) ?? (await this.#waiting.get(outcome.jobId));
    signal.throwIfAborted();
    await deliverOutcome(
      {
        replies: this.#replies,
        drawings: this.#drawings,
        flaggedImages: this.#config.moderation.flaggedImages,
      },
      outcome,
      waitingMessageId,
    );
  }

  update(update: JobUpdate): void {
    this.#views.update(update);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#views.close();
      this.#lanes.close();
      this.#webhookLanes.close();
      await this.#client.destroy();
      await Promise.allSettled([this.#downloader.close(), this.#audit?.close()]);
      this.#redis.disconnect();
    })();
    return this.#closing;
  }

  #submitter(): JobSubmitter {
    if (this.#queue === undefined)
      throw new EmuBotError('INTERNAL', 'the Discord adapter has not been started');
    return this.#queue;
  }
}

export function createDiscordAdapter(config: Config, logger: Logger): DiscordAdapter {
  return new DiscordAdapter(config, logger);
}
