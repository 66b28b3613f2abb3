import { join } from 'node:path';
import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import { AuditLog, Moderator } from '../../chat/index.js';
import type { Config } from '../../config/index.js';
import { EmuBotError, Lifecycle } from '../../core/index.js';
import { EmuTokenizer } from '../../engine/index.js';
import { AttachmentDownloader, createPixelsDecoder } from '../../media/index.js';
import {
  type BotAdapter,
  createRedisConnection,
  type JobOutcome,
  type JobSubmitter,
  type JobUpdate,
  jobTtlMs,
} from '../../queue/index.js';
import { statusBlocks } from './blocks.js';
import { createBoltApp, dropRetriedEvents } from './bolt-app.js';
import type { EditRate } from './edit-limiter.js';
import { registerEvents } from './events.js';
import { HttpTransport } from './http-transport.js';
import { registerInteractions } from './interactions.js';
import { MessageEditor } from './message-editor.js';
import { QueueStatus } from './queue-status.js';
import { ReplyPoster } from './reply-poster.js';
import { RequestPipeline } from './request-pipeline.js';
import type { SlackContext, TrackedJob } from './slack-context.js';
import { SlackStore } from './slack-store.js';
import { registerCommands } from './slash-commands.js';
import { statusText } from './status-text.js';

export interface SlackAdapterOptions {
  /** The workspace's chat.update budget; Slack's Tier 3 limit unless a simulation says otherwise. */
  readonly editRate?: EditRate;
}

interface Started {
  readonly context: SlackContext;
  readonly poster: ReplyPoster;
}

/**
 * Emu in Slack: Bolt in Socket Mode or HTTP mode, turning mentions, thread replies, slash
 * commands, buttons and the message shortcut into queued jobs, and posting their answers.
 */
export class SlackAdapter implements BotAdapter {
  readonly platform = 'slack';
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #options: SlackAdapterOptions;
  readonly #resources = new Lifecycle();
  readonly #stopping = new AbortController();
  readonly #tracked = new Map<string, TrackedJob>();
  #started: Promise<Started> | undefined;
  #resolveStarted: ((started: Started) => void) | undefined;
  #closing: Promise<void> | undefined;
  /** Where HTTP mode listens, once started. */
  httpUrl: string | undefined;

  constructor(config: Config, logger: Logger, options: SlackAdapterOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#logger = logger.child({ platform: 'slack' });
    this.#started = new Promise((resolve) => {
      this.#resolveStarted = resolve;
    });
  }

  async start(queue: JobSubmitter, signal: AbortSignal): Promise<void> {
    const config = this.#config;
    const logger = this.#logger;
    const stopping = AbortSignal.any([signal, this.#stopping.signal]);
    const redis = createRedisConnection(config.redis);
    this.#resources.add('slack redis', { close: () => void redis.disconnect() });
    const store = new SlackStore(redis, config.redis.keyPrefix, {
      buttonTtlDays: config.slack.buttonTtlDays,
      jobTtlMs: jobTtlMs(config.queue),
    });
    const downloader = this.#resources.add(
      'slack downloads',
      new AttachmentDownloader({
        allowedHosts: config.attachments.allowedHosts,
        allowLoopback: config.attachments.allowLoopback,
        maxBytes: config.attachments.maxBytes,
        connectTimeoutMs: config.attachments.connectTimeoutMs,
        headersTimeoutMs: config.attachments.headersTimeoutMs,
        totalTimeoutMs: config.attachments.totalTimeoutMs,
        maxRedirects: config.attachments.maxRedirects,
        maxConcurrent: config.attachments.maxConcurrentDownloads,
        ...(config.slack.botToken === undefined ? {} : { slackBotToken: config.slack.botToken }),
      }),
    );
    const audit =
      config.audit.directory === null
        ? undefined
        : this.#resources.add(
            'slack audit log',
            new AuditLog({ ...config.audit, directory: config.audit.directory }),
          );
    const tokenizer = await EmuTokenizer.fromFile(join(config.models.instruct.bundle, 'tokenizer.json'));
    const { app, receiver } = createBoltApp(config, logger);
    const editor = new MessageEditor(
      app.client,
      config.slack.updateIntervalMs,
      logger,
      this.#options.editRate,
    );
    this.#resources.add('slack message edits', editor);
    const pipeline = new RequestPipeline({
      config,
      logger,
      moderator: new Moderator(config.moderation),
      fetcher: downloader,
      decoder: createPixelsDecoder(config.media),
      counter: { countTokens: (text) => tokenizer.encode(text).length },
      audit,
      store,
    });
    let context: SlackContext | undefined;
    const current = (): SlackContext => {
      if (context === undefined)
        throw new EmuBotError('INTERNAL', 'a Slack event arrived before the adapter started');
      return context;
    };
    dropRetriedEvents(app, () => store);
    registerEvents(app, current);
    registerCommands(app, current);
    registerInteractions(app, current);
    app.error(async (error) => logger.warn({ err: error }, 'a Slack handler failed'));
    await app.init();
    const auth = await app.client.auth.test();
    const bot = { userId: String(auth.user_id), botId: String(auth.bot_id) };
    context = {
      config,
      logger,
      client: app.client,
      bot,
      store,
      editor,
      pipeline,
      queue,
      status: new QueueStatus(redis, config.redis.keyPrefix),
      tracked: this.#tracked,
      signal: stopping,
    };
    await this.#startTransport(app, receiver, store);
    const flagged = config.moderation.flaggedImages;
    const poster = new ReplyPoster({ client: app.client, editor, store, flaggedImages: flagged, logger });
    this.#resolveStarted?.({ context, poster });
    logger.info({ mode: config.slack.mode, bot: bot.userId }, 'Slack adapter connected');
  }

  async deliver(outcome: JobOutcome, signal: AbortSignal): Promise<void> {
    const started = await Promise.race([this.#started, aborted(signal)]);
    this.#tracked.delete(outcome.jobId);
    await started?.poster.deliver(outcome);
  }

  update(update: JobUpdate): void {
    const tracked = this.#tracked.get(update.jobId);
    void this.#started?.then(({ context }) => {
      if (tracked === undefined) return;
      const text = statusText(update, tracked.answerPrefix);
      context.editor.progress({
        channel: tracked.channel,
        ts: tracked.statusTs,
        text,
        blocks: statusBlocks(text, update.jobId),
      });
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopping.abort();
      await this.#resources.close();
    })();
    return this.#closing;
  }

  async #startTransport(
    app: App,
    receiver: ReturnType<typeof createBoltApp>['receiver'],
    store: SlackStore,
  ): Promise<void> {
    if (receiver === undefined) {
      await app.start();
      this.#resources.add('slack socket mode', {
        close: async () => {
          await app.stop();
        },
      });
      return;
    }
    const secret = this.#config.slack.signingSecret?.reveal() ?? '';
    const transport = this.#resources.add(
      'slack http',
      new HttpTransport(receiver, secret, store, this.#logger),
    );
    this.httpUrl = await transport.listen(this.#config.slack.http.host, this.#config.slack.http.port);
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new EmuBotError('ABORTED', 'the delivery was given up before Slack connected'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** The `slack` entry of the adapter factory. */
export function createSlackAdapter(config: Config, logger: Logger): SlackAdapter {
  return new SlackAdapter(config, logger);
}
